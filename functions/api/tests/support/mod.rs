//! Two ways to reach the router, same calls: the Lambda path (API Gateway HTTP API v2
//! events with JWT authorizer claims, parsed by `lambda_http`) and real HTTP against a
//! locally served API (dev-auth headers), with a reqwest client.

#![allow(dead_code)]

use api::local::RunningServer;
use api::{router, ApiConfig, AppState, AuthMode};
use axum::Router;
use p2p_function_support::testing::TestEnv;
use serde_json::{json, Value};
use tower::ServiceExt;

pub const SECRET: &str = "test-workday-secret";

pub fn config() -> ApiConfig {
    let env = [
        ("WORKDAY_CALLBACK_SECRET", SECRET),
        ("API_MAX_BODY_BYTES", "65536"),
    ];
    ApiConfig::from_source(&env[..]).unwrap()
}

/// A caller: id and groups.
#[derive(Clone, Copy)]
pub struct Who(pub &'static str, pub &'static str);

pub const CLERK: Who = Who("clara@corp.example", "ap-clerk");
/// Clerk and approver at once: the segregation-of-duties cases.
pub const SAM: Who = Who("sam@corp.example", "ap-clerk,ap-approver");
pub const APPROVER: Who = Who("abby@corp.example", "ap-approver");
pub const ADMIN: Who = Who("ada@corp.example", "ap-admin");

pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    /// Asserts a problem document with this status and returns it.
    pub fn problem(&self, status: u16) -> Value {
        assert_eq!(
            self.status,
            status,
            "body: {}",
            String::from_utf8_lossy(&self.body)
        );
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json")
        );
        let p = self.json();
        assert_eq!(p["status"], status);
        assert!(p["type"].as_str().unwrap().starts_with("/problems/"));
        p
    }
}

pub enum Transport {
    Lambda(Router),
    Http(RunningServer, reqwest::Client),
}

/// A request beyond the common case.
pub struct Req<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub who: Option<Who>,
    pub body: Option<Vec<u8>>,
    pub content_type: Option<&'a str>,
    pub headers: Vec<(&'a str, String)>,
}

impl Transport {
    pub fn lambda(env: &TestEnv) -> Self {
        Transport::Lambda(router(AppState::new(
            env.services.clone(),
            config(),
            AuthMode::Jwt,
        )))
    }

    pub async fn http(env: &TestEnv) -> Self {
        let server = api::local::spawn(
            "127.0.0.1:0".parse().unwrap(),
            env.services.clone(),
            config(),
            AuthMode::DevHeaders,
        )
        .await
        .unwrap();
        Transport::Http(server, reqwest::Client::new())
    }

    pub async fn call(
        &self,
        method: &str,
        path: &str,
        who: Option<Who>,
        body: Option<Value>,
    ) -> Resp {
        let has_body = body.is_some();
        self.send(Req {
            method,
            path,
            who,
            body: body.map(|b| serde_json::to_vec(&b).unwrap()),
            content_type: has_body.then_some("application/json"),
            headers: vec![],
        })
        .await
    }

    pub async fn send(&self, req: Req<'_>) -> Resp {
        match self {
            Transport::Lambda(router) => lambda_send(router, req).await,
            Transport::Http(server, client) => http_send(server, client, req).await,
        }
    }

    pub async fn stop(self) {
        if let Transport::Http(server, _) = self {
            server.stop().await.unwrap();
        }
    }
}

/// An API Gateway HTTP API (payload 2.0) event, as Lambda receives it.
pub fn apigw_v2_event(req: &Req<'_>) -> Value {
    let (raw_path, raw_query) = req.path.split_once('?').unwrap_or((req.path, ""));
    let mut headers = serde_json::Map::new();
    if let Some(ct) = req.content_type {
        headers.insert("content-type".into(), json!(ct));
    }
    for (k, v) in &req.headers {
        headers.insert(k.to_ascii_lowercase(), json!(v));
    }
    let mut ctx = json!({
        "accountId": "123456789012",
        "apiId": "api",
        "domainName": "api.execute-api.us-east-1.amazonaws.com",
        "domainPrefix": "api",
        "http": {"method": req.method, "path": raw_path, "protocol": "HTTP/1.1",
                 "sourceIp": "192.0.2.1", "userAgent": "test"},
        "requestId": "req-1",
        "routeKey": "$default",
        "stage": "$default",
        "time": "15/Nov/2024:10:00:00 +0000",
        "timeEpoch": 1731664800000u64
    });
    if let Some(Who(id, groups)) = req.who {
        ctx["authorizer"] = json!({"jwt": {"claims": {
            "sub": format!("sub-{id}"),
            "email": id,
            "cognito:groups": format!("[{}]", groups.replace(',', " ")),
        }, "scopes": null}});
    }
    let body = req
        .body
        .as_ref()
        .map(|b| String::from_utf8(b.clone()).unwrap());
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": headers,
        "requestContext": ctx,
        "body": body,
        "isBase64Encoded": false
    })
}

async fn lambda_send(router: &Router, req: Req<'_>) -> Resp {
    let event = apigw_v2_event(&req);
    let request = lambda_http::request::from_str(&event.to_string()).expect("a valid v2 event");
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    Resp {
        status,
        headers,
        body,
    }
}

async fn http_send(server: &RunningServer, client: &reqwest::Client, req: Req<'_>) -> Resp {
    let method = reqwest::Method::from_bytes(req.method.as_bytes()).unwrap();
    let mut r = client.request(method, server.url(req.path));
    if let Some(Who(id, groups)) = req.who {
        r = r.header("X-Dev-User", id).header("X-Dev-Groups", groups);
    }
    if let Some(ct) = req.content_type {
        r = r.header("content-type", ct);
    }
    for (k, v) in req.headers {
        r = r.header(k, v);
    }
    if let Some(b) = req.body {
        r = r.body(b);
    }
    let response = r.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let body = response.bytes().await.unwrap().to_vec();
    Resp {
        status,
        headers,
        body,
    }
}
