//! Every route, through the Lambda path and over real HTTP: the whole procure-to-pay flow
//! with its error classes, roles, segregation of duties and the signed Workday callback.

mod support;

use api::AuthMode;
use p2p_function_support::signature::sign;
use p2p_function_support::testing::{test_now, TestEnv};
use serde_json::{json, Value};
use support::*;

fn id_of(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_string()
}

async fn error_classes(t: &Transport) {
    // No identity.
    let r = t.call("GET", "/api/v1/vendors", None, None).await;
    r.problem(401);
    // Wrong role.
    let body = json!({"name": "Acme", "email": "ap@acme.example"});
    t.call(
        "POST",
        "/api/v1/vendors",
        Some(APPROVER),
        Some(body.clone()),
    )
    .await
    .problem(403);
    // Bad JSON, unknown fields, wrong types, wrong content type, huge body.
    let bad = t
        .send(Req {
            method: "POST",
            path: "/api/v1/vendors",
            who: Some(CLERK),
            body: Some(b"{\"name\": ".to_vec()),
            content_type: Some("application/json"),
            headers: vec![],
        })
        .await
        .problem(400);
    assert_eq!(bad["errors"][0]["code"], "invalid_json");
    let p = t
        .call(
            "POST",
            "/api/v1/vendors",
            Some(CLERK),
            Some(json!({"name": "Acme", "email": "ap@acme.example", "colour": "red"})),
        )
        .await
        .problem(400);
    assert_eq!(p["errors"][0]["code"], "unknown_field");
    // A struct is never read from an array.
    let p = t
        .call(
            "POST",
            "/api/v1/vendors",
            Some(CLERK),
            Some(json!(["Acme", "ap@acme.example"])),
        )
        .await
        .problem(400);
    assert_eq!(p["errors"][0]["code"], "invalid_type");
    let p = t
        .call(
            "POST",
            "/api/v1/vendors",
            Some(CLERK),
            Some(json!({"name": 5, "email": "ap@acme.example"})),
        )
        .await
        .problem(400);
    assert_eq!(p["errors"][0]["field"], "name");
    let p = t
        .call(
            "POST",
            "/api/v1/vendors",
            Some(CLERK),
            Some(json!({"name": "Acme", "email": "not-an-email"})),
        )
        .await
        .problem(400);
    assert_eq!(p["errors"][0]["field"], "email");
    t.send(Req {
        method: "POST",
        path: "/api/v1/vendors",
        who: Some(CLERK),
        body: Some(b"name=Acme".to_vec()),
        content_type: Some("application/x-www-form-urlencoded"),
        headers: vec![],
    })
    .await
    .problem(415);
    let huge = format!(
        r#"{{"name": "{}", "email": "ap@acme.example"}}"#,
        "x".repeat(70_000)
    );
    t.send(Req {
        method: "POST",
        path: "/api/v1/vendors",
        who: Some(CLERK),
        body: Some(huge.into_bytes()),
        content_type: Some("application/json"),
        headers: vec![],
    })
    .await
    .problem(413);
    // Query and routing errors.
    let p = t
        .call("GET", "/api/v1/vendors?limit=0", Some(CLERK), None)
        .await
        .problem(400);
    assert_eq!(p["errors"][0]["field"], "limit");
    t.call("GET", "/api/v1/vendors?status=bogus", Some(CLERK), None)
        .await
        .problem(400);
    t.call(
        "GET",
        "/api/v1/vendors?next_token=forged.token",
        Some(CLERK),
        None,
    )
    .await
    .problem(400);
    t.call("GET", "/api/v1/vendors/ven-missing", Some(CLERK), None)
        .await
        .problem(404);
    t.call("GET", "/api/v1/nothing-here", Some(CLERK), None)
        .await
        .problem(404);
    let r = t.call("PATCH", "/api/v1/vendors", Some(CLERK), None).await;
    r.problem(405);
    assert!(r.header("allow").is_some_and(|a| a.contains("GET")));
}

async fn scenario(env: &TestEnv, t: &Transport) {
    // Meta.
    let h = t.call("GET", "/health", None, None).await;
    assert_eq!((h.status, h.json()["status"].clone()), (200, json!("ok")));
    let spec = t.call("GET", "/openapi.json", None, None).await;
    assert_eq!(spec.status, 200);
    assert!(spec.json()["paths"]["/api/v1/invoices/{id}/reconcile"]["put"].is_object());

    error_classes(t).await;

    // Vendors.
    let r = t
        .call(
            "POST",
            "/api/v1/vendors",
            Some(CLERK),
            Some(json!({"name": "Acme Supplies", "email": "AP@Acme.example",
                        "payment_terms": "Net 30",
                        "bank_account": {"iban": "DE89 3704 0044 0532 0130 00", "bic": "COBADEFFXXX"}})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let vendor = r.json();
    let vendor_id = id_of(&vendor);
    assert_eq!(
        r.header("location"),
        Some(format!("/api/v1/vendors/{vendor_id}").as_str())
    );
    assert_eq!(vendor["email"], "AP@acme.example");
    assert_eq!(vendor["status"], "active");
    let r = t
        .call(
            "GET",
            &format!("/api/v1/vendors/{vendor_id}"),
            Some(APPROVER),
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    let r = t
        .call(
            "PUT",
            &format!("/api/v1/vendors/{vendor_id}"),
            Some(CLERK),
            Some(json!({"phone": "+1 555 0100"})),
        )
        .await;
    assert_eq!((r.status, r.json()["version"].clone()), (200, json!(2)));
    let r = t
        .call(
            "GET",
            "/api/v1/vendors?status=active&limit=1",
            Some(CLERK),
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["items"].as_array().unwrap().len(), 1);

    // Purchase orders.
    let po_body = json!({"vendor_id": vendor_id, "description": "Paper",
        "lines": [{"description": "A4 paper", "quantity": "10", "unit_price": "12.50"}]});
    let r = t
        .call(
            "POST",
            "/api/v1/purchase-orders",
            Some(CLERK),
            Some(json!({"vendor_id": "ven-nope", "lines": po_body["lines"]})),
        )
        .await;
    assert_eq!(r.problem(422)["rule"], "vendor_id_exists");
    let r = t
        .call(
            "POST",
            "/api/v1/purchase-orders",
            Some(CLERK),
            Some(po_body.clone()),
        )
        .await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let po = r.json();
    let po_id = id_of(&po);
    assert_eq!(
        (po["status"].clone(), po["requested_by"].clone()),
        (json!("draft"), json!(CLERK.0))
    );
    assert_eq!(po["total_amount"], "125.00");
    let r = t
        .call(
            "PUT",
            &format!("/api/v1/purchase-orders/{po_id}"),
            Some(CLERK),
            Some(json!({"description": "Paper, A4", "status": "pending"})),
        )
        .await;
    assert_eq!(
        (r.status, r.json()["status"].clone()),
        (200, json!("pending"))
    );
    t.call(
        "PUT",
        &format!("/api/v1/purchase-orders/{po_id}/approve"),
        Some(CLERK),
        None,
    )
    .await
    .problem(403);
    let r = t
        .call(
            "PUT",
            &format!("/api/v1/purchase-orders/{po_id}/approve"),
            Some(APPROVER),
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.json()["approved_by"].clone()),
        (200, json!(APPROVER.0))
    );
    t.call(
        "PUT",
        &format!("/api/v1/purchase-orders/{po_id}/approve"),
        Some(APPROVER),
        None,
    )
    .await
    .problem(409);
    t.call(
        "PUT",
        &format!("/api/v1/purchase-orders/{po_id}"),
        Some(CLERK),
        Some(json!({"description": "x"})),
    )
    .await
    .problem(409);
    t.call(
        "DELETE",
        &format!("/api/v1/purchase-orders/{po_id}"),
        Some(ADMIN),
        None,
    )
    .await
    .problem(409);
    // Segregation of duties on POs: the requester may not approve.
    let r = t
        .call(
            "POST",
            "/api/v1/purchase-orders",
            Some(ADMIN),
            Some(po_body.clone()),
        )
        .await;
    let own_po = id_of(&r.json());
    let p = t
        .call(
            "PUT",
            &format!("/api/v1/purchase-orders/{own_po}/approve"),
            Some(ADMIN),
            None,
        )
        .await
        .problem(403);
    assert_eq!(p["rule"], "segregation_of_duties");
    t.call(
        "DELETE",
        &format!("/api/v1/purchase-orders/{own_po}"),
        Some(CLERK),
        None,
    )
    .await
    .problem(403);
    let r = t
        .call(
            "DELETE",
            &format!("/api/v1/purchase-orders/{own_po}"),
            Some(ADMIN),
            None,
        )
        .await;
    assert_eq!(r.status, 204);
    let r = t
        .call(
            "GET",
            "/api/v1/purchase-orders?status=approved",
            Some(CLERK),
            None,
        )
        .await;
    assert_eq!(r.json()["items"].as_array().unwrap().len(), 1);
    let r = t
        .call(
            "GET",
            &format!("/api/v1/vendors/{vendor_id}/purchase-orders"),
            Some(CLERK),
            None,
        )
        .await;
    assert_eq!(r.json()["items"][0]["id"], json!(po_id));
    let r = t
        .call(
            "GET",
            &format!("/api/v1/purchase-orders/{po_id}"),
            Some(CLERK),
            None,
        )
        .await;
    assert_eq!(r.status, 200);

    // Goods receipts.
    let r = t
        .call(
            "POST",
            &format!("/api/v1/purchase-orders/{po_id}/receipts"),
            Some(CLERK),
            Some(json!({"lines": [{"line_no": 1, "quantity_accepted": "10"}]})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["received_by"], CLERK.0);
    let r = t
        .call(
            "POST",
            &format!("/api/v1/purchase-orders/{po_id}/receipts"),
            Some(CLERK),
            Some(json!({"lines": [{"line_no": 9, "quantity_accepted": "1"}]})),
        )
        .await;
    assert_eq!(r.problem(400)["errors"][0]["field"], "lines[0].line_no");
    let r = t
        .call(
            "GET",
            &format!("/api/v1/purchase-orders/{po_id}/receipts"),
            Some(CLERK),
            None,
        )
        .await;
    assert_eq!(r.json()["items"].as_array().unwrap().len(), 1);

    // Invoices (today is 2024-11-15 on the test clock).
    let inv_body = json!({"invoice_number": "INV-1001", "po_id": po_id,
        "invoice_date": "2024-11-10", "due_date": "2024-12-15",
        "lines": [{"description": "A4 paper", "quantity": "10", "unit_price": "12.50"}],
        "total_amount": "125.00"});
    let mut late = inv_body.clone();
    late["due_date"] = json!("2024-11-12");
    let p = t
        .call("POST", "/api/v1/invoices", Some(SAM), Some(late))
        .await
        .problem(422);
    assert_eq!(p["errors"][0]["code"], "due_date_not_in_future");
    let mut no_po = inv_body.clone();
    no_po["po_id"] = json!("po-missing");
    t.call("POST", "/api/v1/invoices", Some(SAM), Some(no_po))
        .await
        .problem(422);
    let r = t
        .call(
            "POST",
            "/api/v1/invoices",
            Some(SAM),
            Some(inv_body.clone()),
        )
        .await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let invoice = r.json();
    let inv_id = id_of(&invoice);
    assert_eq!(
        (invoice["status"].clone(), invoice["submitted_by"].clone()),
        (json!("received"), json!(SAM.0))
    );
    assert_eq!(invoice["vendor_id"], json!(vendor_id));
    let mut dup = inv_body.clone();
    dup["invoice_number"] = json!("inv 1001");
    t.call("POST", "/api/v1/invoices", Some(CLERK), Some(dup))
        .await
        .problem(409);
    let r = t
        .call(
            "PUT",
            &format!("/api/v1/invoices/{inv_id}"),
            Some(CLERK),
            Some(json!({"notes": "checked"})),
        )
        .await;
    assert_eq!(
        (r.status, r.json()["notes"].clone()),
        (200, json!("checked"))
    );
    let r = t
        .call(
            "GET",
            &format!("/api/v1/invoices?po_id={po_id}"),
            Some(CLERK),
            None,
        )
        .await;
    assert_eq!(r.json()["items"].as_array().unwrap().len(), 1);
    let r = t
        .call(
            "GET",
            &format!("/api/v1/invoices/{inv_id}"),
            Some(APPROVER),
            None,
        )
        .await;
    assert_eq!(r.status, 200);

    // Reconcile.
    let r = t
        .call(
            "PUT",
            &format!("/api/v1/invoices/{inv_id}/reconcile"),
            Some(CLERK),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["outcome"], "matched");
    assert!(r.json()["report"].is_object());
    t.call(
        "PUT",
        &format!("/api/v1/invoices/{inv_id}"),
        Some(CLERK),
        Some(json!({"notes": "x"})),
    )
    .await
    .problem(409);
    t.call(
        "DELETE",
        &format!("/api/v1/invoices/{inv_id}"),
        Some(ADMIN),
        None,
    )
    .await
    .problem(409);

    // Payment approval: role, segregation of duties, then the approver.
    t.call(
        "POST",
        &format!("/api/v1/payments/{inv_id}/approve"),
        Some(CLERK),
        None,
    )
    .await
    .problem(403);
    let p = t
        .call(
            "POST",
            &format!("/api/v1/payments/{inv_id}/approve"),
            Some(SAM),
            None,
        )
        .await
        .problem(403);
    assert_eq!(p["rule"], "segregation_of_duties");
    let r = t
        .call(
            "POST",
            &format!("/api/v1/payments/{inv_id}/approve"),
            Some(APPROVER),
            None,
        )
        .await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let payment = r.json();
    let pay_id = id_of(&payment);
    assert_eq!(
        (payment["approved_by"].clone(), payment["status"].clone()),
        (json!(APPROVER.0), json!("approved"))
    );
    assert_eq!(payment["files"].as_array().unwrap().len(), 2);
    t.call(
        "POST",
        &format!("/api/v1/payments/{inv_id}/approve"),
        Some(APPROVER),
        None,
    )
    .await
    .problem(409);
    let r = t
        .call(
            "GET",
            &format!("/api/v1/payments?invoice_id={inv_id}"),
            Some(CLERK),
            None,
        )
        .await;
    assert_eq!(r.json()["items"][0]["id"], json!(pay_id));
    let r = t
        .call(
            "GET",
            &format!("/api/v1/payments/{pay_id}"),
            Some(CLERK),
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    let r = t
        .call(
            "GET",
            &format!("/api/v1/payments/{pay_id}/files"),
            Some(CLERK),
            None,
        )
        .await;
    assert!(r.json()["files"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["available"] == true));
    let r = t
        .call(
            "GET",
            &format!("/api/v1/payments/{pay_id}/files/xml"),
            Some(CLERK),
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.header("content-type")),
        (200, Some("application/xml"))
    );
    assert!(r
        .header("content-disposition")
        .unwrap()
        .contains(&format!("{pay_id}.xml")));
    assert!(String::from_utf8_lossy(&r.body).contains("<Payment>"));
    t.call(
        "GET",
        &format!("/api/v1/payments/{pay_id}/files/pdf"),
        Some(CLERK),
        None,
    )
    .await
    .problem(400);
    let r = t
        .call(
            "PUT",
            &format!("/api/v1/payments/{pay_id}"),
            Some(APPROVER),
            Some(json!({"notes": "urgent"})),
        )
        .await;
    assert_eq!(
        (r.status, r.json()["notes"].clone()),
        (200, json!("urgent"))
    );
    t.call(
        "PUT",
        &format!("/api/v1/payments/{pay_id}"),
        Some(CLERK),
        Some(json!({"notes": "x"})),
    )
    .await
    .problem(403);

    // Exports.
    let r = t.call("GET", "/api/v1/exports", Some(CLERK), None).await;
    assert_eq!(r.json()["items"].as_array().unwrap().len(), 2);
    let r = t
        .call(
            "GET",
            &format!("/api/v1/exports?file_type=json&vendor_id={vendor_id}"),
            Some(CLERK),
            None,
        )
        .await;
    let items = r.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["amount"], "125.00");
    t.call(
        "GET",
        "/api/v1/exports?start_date=2025-01-02&end_date=2025-01-01",
        Some(CLERK),
        None,
    )
    .await
    .problem(400);
    let r = t
        .call(
            "GET",
            &format!("/api/v1/exports/{pay_id}/json"),
            Some(CLERK),
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.header("content-type")),
        (200, Some("application/json"))
    );

    // Workday.
    let r = t
        .call(
            "GET",
            &format!("/api/v1/workday/status/{pay_id}"),
            Some(CLERK),
            None,
        )
        .await;
    assert_eq!(r.json()["integration_status"], "pending");
    callback_cases(t, &pay_id).await;
    let r = t
        .call(
            "GET",
            &format!("/api/v1/workday/status/{pay_id}"),
            Some(CLERK),
            None,
        )
        .await;
    let s = r.json();
    assert_eq!(
        (s["integration_status"].clone(), s["current_status"].clone()),
        (json!("confirmed"), json!("sent"))
    );
    assert_eq!(
        (
            s["xml_file_available"].clone(),
            s["workday_callback_received"].clone()
        ),
        (json!(true), json!(true))
    );
    let r = t
        .call(
            "GET",
            &format!("/api/v1/invoices/{inv_id}"),
            Some(CLERK),
            None,
        )
        .await;
    assert_eq!(r.json()["status"], "paid");
    assert!(env
        .published_events()
        .await
        .iter()
        .any(|e| e.event_type.as_str() == "InvoicePaid"
            && e.invoice_id.as_deref() == Some(inv_id.as_str())));

    // Audit: every entry names its caller.
    let r = t
        .call(
            "GET",
            &format!("/api/v1/audit?entity_id={inv_id}"),
            Some(CLERK),
            None,
        )
        .await;
    let entries = r.json()["items"].as_array().unwrap().clone();
    let by: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["user_id"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(by.contains(&("CREATE", SAM.0)), "{by:?}");
    assert!(by.contains(&("UPDATE", CLERK.0)), "{by:?}");
    assert!(by.contains(&("RECONCILE", CLERK.0)), "{by:?}");
    let r = t
        .call(
            "GET",
            &format!("/api/v1/audit?entity_id={pay_id}"),
            Some(CLERK),
            None,
        )
        .await;
    let actions: Vec<String> = r.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{}:{}",
                e["action"].as_str().unwrap(),
                e["user_id"].as_str().unwrap()
            )
        })
        .collect();
    assert!(
        actions.contains(&format!("APPROVE:{}", APPROVER.0)),
        "{actions:?}"
    );
    assert!(
        actions.contains(&"CALLBACK_RECEIVED:workday-callback".to_string()),
        "{actions:?}"
    );
    assert!(
        actions.contains(&format!("DOWNLOAD:{}", CLERK.0)),
        "{actions:?}"
    );
    t.call("GET", "/api/v1/audit", Some(CLERK), None)
        .await
        .problem(400);

    // Vendor deletion: refused with open business, admin only, then allowed.
    t.call(
        "DELETE",
        &format!("/api/v1/vendors/{vendor_id}"),
        Some(ADMIN),
        None,
    )
    .await
    .problem(409);
    let r = t
        .call(
            "POST",
            "/api/v1/vendors",
            Some(CLERK),
            Some(json!({"name": "Idle Co", "email": "idle@idle.example"})),
        )
        .await;
    let idle = id_of(&r.json());
    t.call(
        "DELETE",
        &format!("/api/v1/vendors/{idle}"),
        Some(CLERK),
        None,
    )
    .await
    .problem(403);
    let r = t
        .call(
            "DELETE",
            &format!("/api/v1/vendors/{idle}"),
            Some(ADMIN),
            None,
        )
        .await;
    assert_eq!(r.status, 204);
    t.call("GET", &format!("/api/v1/vendors/{idle}"), Some(ADMIN), None)
        .await
        .problem(404);
    let r = t
        .call(
            "GET",
            &format!("/api/v1/audit?entity_id={idle}"),
            Some(ADMIN),
            None,
        )
        .await;
    let last = r.json()["items"]
        .as_array()
        .unwrap()
        .last()
        .cloned()
        .unwrap();
    assert_eq!(
        (last["action"].clone(), last["user_id"].clone()),
        (json!("DELETE"), json!(ADMIN.0))
    );
    assert_eq!(last["details"]["record"]["name"], "Idle Co");
}

/// Forged, stale, replayed and valid callbacks.
async fn callback_cases(t: &Transport, pay_id: &str) {
    let now = test_now().timestamp();
    let body = serde_json::to_vec(&json!({"payment_id": pay_id, "status": "sent"})).unwrap();
    let signed = |secret: &str, ts: i64, body: &[u8]| {
        vec![
            ("X-P2P-Timestamp", ts.to_string()),
            ("X-P2P-Signature", sign(secret.as_bytes(), ts, body)),
        ]
    };
    let post = |headers: Vec<(&'static str, String)>, body: Vec<u8>| {
        t.send(Req {
            method: "POST",
            path: "/api/v1/workday/callback",
            who: None,
            body: Some(body),
            content_type: Some("application/json"),
            headers,
        })
    };
    post(vec![], body.clone()).await.problem(401);
    post(signed("not-the-secret", now, &body), body.clone())
        .await
        .problem(401);
    post(signed(SECRET, now - 3600, &body), body.clone())
        .await
        .problem(401);
    // A valid signature over another body does not carry over.
    let mut tampered = signed(SECRET, now, &body);
    tampered[1].1 = sign(SECRET.as_bytes(), now, b"{}");
    post(tampered, body.clone()).await.problem(401);
    let good = signed(SECRET, now, &body);
    let r = post(good.clone(), body.clone()).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let out = r.json();
    assert_eq!(
        (
            out["previous_status"].clone(),
            out["current_status"].clone()
        ),
        (json!("approved"), json!("sent"))
    );
    assert_eq!(out["invoice_status"], "paid");
    // The very same request again, and a freshly signed second confirmation: both replays.
    assert_eq!(
        post(good, body.clone()).await.problem(409)["type"],
        "/problems/replayed-callback"
    );
    post(signed(SECRET, now + 1, &body), body.clone())
        .await
        .problem(409);
}

#[tokio::test]
async fn every_route_through_the_lambda_path() {
    let env = TestEnv::empty();
    let t = Transport::lambda(&env);
    scenario(&env, &t).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_over_real_http() {
    let env = TestEnv::empty();
    let t = Transport::http(&env).await;
    scenario(&env, &t).await;
    t.stop().await;
}

#[tokio::test]
async fn local_serving_without_dev_auth_authenticates_nobody() {
    let env = TestEnv::empty();
    let server = api::local::spawn(
        "127.0.0.1:0".parse().unwrap(),
        env.services.clone(),
        config(),
        api::local::local_auth(false),
    )
    .await
    .unwrap();
    let client = reqwest::Client::new();
    let r = client
        .get(server.url("/api/v1/vendors"))
        .header("X-Dev-User", ADMIN.0)
        .header("X-Dev-Groups", ADMIN.1)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    server.stop().await.unwrap();
    // With --dev-auth, the dev caller must be an e-mail address.
    let server = api::local::spawn(
        "127.0.0.1:0".parse().unwrap(),
        env.services.clone(),
        config(),
        api::local::local_auth(true),
    )
    .await
    .unwrap();
    let r = client
        .get(server.url("/api/v1/vendors"))
        .header("X-Dev-User", "SOMEBODY")
        .header("X-Dev-Groups", ADMIN.1)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let r = client.get(server.url("/health")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn jwt_mode_ignores_dev_headers_and_needs_claims() {
    let env = TestEnv::empty();
    let t = Transport::lambda(&env);
    let r = t
        .send(Req {
            method: "GET",
            path: "/api/v1/vendors",
            who: None,
            body: None,
            content_type: None,
            headers: vec![
                ("X-Dev-User", ADMIN.0.to_string()),
                ("X-Dev-Groups", "ap-admin".into()),
            ],
        })
        .await;
    r.problem(401);
    // A caller without any AP group reads nothing.
    t.call(
        "GET",
        "/api/v1/vendors",
        Some(Who("eve@corp.example", "other")),
        None,
    )
    .await
    .problem(403);
}

#[test]
fn the_spec_documents_every_route_and_the_auth_of_each_mode() {
    let dev = api::openapi::document(AuthMode::DevHeaders);
    let json: Value = serde_json::from_str(&dev.to_json().unwrap()).unwrap();
    let paths = json["paths"].as_object().unwrap();
    assert_eq!(paths.len(), 22, "{:?}", paths.keys().collect::<Vec<_>>());
    assert!(json["components"]["securitySchemes"]["dev_user"].is_object());
    assert_eq!(
        json["paths"]["/api/v1/vendors"]["post"]["responses"]["415"]["content"]
            ["application/problem+json"]["schema"]["$ref"],
        "#/components/schemas/Problem"
    );
    let jwt: Value =
        serde_json::from_str(&api::openapi::document(AuthMode::Jwt).to_json().unwrap()).unwrap();
    assert_eq!(
        jwt["components"]["securitySchemes"]["jwt"]["scheme"],
        "bearer"
    );
    assert_eq!(
        jwt["paths"]["/api/v1/workday/callback"]["post"]["security"][0]["workday_signature"],
        json!([])
    );
}

#[test]
fn wire_enums_match_the_core_texts() {
    use api::model::*;
    use p2p_core::invoice::InvoiceStatus as I;
    for s in I::ALL {
        let w = InvoiceStatus::from(*s);
        assert_eq!(w.as_str(), s.as_str());
        assert_eq!(serde_json::to_value(w).unwrap(), json!(s.as_str()));
    }
    for s in p2p_core::purchase_order::PoStatus::ALL {
        assert_eq!(
            serde_json::to_value(PoStatus::from(*s)).unwrap(),
            json!(s.as_str())
        );
    }
    for s in p2p_core::vendor::VendorStatus::ALL {
        assert_eq!(
            serde_json::to_value(VendorStatus::from(*s)).unwrap(),
            json!(s.as_str())
        );
    }
    for s in p2p_core::payment::PaymentStatus::ALL {
        assert_eq!(
            serde_json::to_value(PaymentStatus::from(*s)).unwrap(),
            json!(s.as_str())
        );
    }
    let spec: Value =
        serde_json::from_str(&api::openapi::document(AuthMode::Jwt).to_json().unwrap()).unwrap();
    assert_eq!(
        spec["components"]["schemas"]["InvoiceStatus"]["enum"][4],
        json!("needs_review")
    );
}
