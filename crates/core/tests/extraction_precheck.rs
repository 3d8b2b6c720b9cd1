//! File pre-checks on the real sample files and on crafted bad ones.

use p2p_core::extraction::*;

const TEXTRACT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/testdata/textract/"
);
const INVOICES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/testdata/invoices/"
);

fn check(name: &str, bytes: &[u8]) -> Result<DocumentKind, DocumentRejection> {
    check_document(name, bytes.len() as u64, bytes, &DocumentPolicy::default())
}

fn code(r: Result<DocumentKind, DocumentRejection>) -> &'static str {
    r.unwrap_err().code()
}

#[test]
fn real_samples_are_accepted() {
    let png = std::fs::read(format!("{TEXTRACT}trp_default_invoice_1.png")).unwrap();
    assert_eq!(check("invoice.png", &png), Ok(DocumentKind::Png));
    let jpg = std::fs::read(format!("{TEXTRACT}textractor_receipt.jpg")).unwrap();
    assert_eq!(check("uploads/receipt.JPG", &jpg), Ok(DocumentKind::Jpeg));
    assert_eq!(check("receipt.jpeg", &jpg), Ok(DocumentKind::Jpeg));
    for pdf in ["AmazonWebServices", "QualityHosting", "free_fiber"] {
        let bytes = std::fs::read(format!("{INVOICES}{pdf}.pdf")).unwrap();
        assert_eq!(
            check(&format!("{pdf}.pdf"), &bytes),
            Ok(DocumentKind::Pdf),
            "{pdf}"
        );
    }
    let sample = std::fs::read(format!("{TEXTRACT}textractor_sample-invoice.pdf")).unwrap();
    assert_eq!(check("sample-invoice.pdf", &sample), Ok(DocumentKind::Pdf));
    let tiff = b"II*\x00\x08\x00\x00\x00rest-of-image";
    assert_eq!(check("scan.tif", tiff), Ok(DocumentKind::Tiff));
    assert_eq!(
        check("scan.tiff", b"MM\x00*\x00\x00\x00\x08"),
        Ok(DocumentKind::Tiff)
    );
}

#[test]
fn rejections_have_stable_codes() {
    let png = std::fs::read(format!("{TEXTRACT}trp_default_invoice_1.png")).unwrap();
    assert_eq!(code(check("a.pdf", b"")), "empty_file");
    assert_eq!(
        code(check_document("a.png", 0, &png, &DocumentPolicy::default())),
        "empty_file"
    );
    // Size is checked before content: an 11 MiB object need not be downloaded.
    let too_big = check_document(
        "a.png",
        11 * 1024 * 1024,
        &png[..64],
        &DocumentPolicy::default(),
    );
    assert!(matches!(
        too_big,
        Err(DocumentRejection::TooLarge { size, max_bytes, .. }) if size == 11 * 1024 * 1024 && max_bytes == 10 * 1024 * 1024
    ));
    let strict = DocumentPolicy { max_bytes: 1000 };
    assert_eq!(
        code(check_document("a.png", png.len() as u64, &png, &strict)),
        "too_large"
    );
    assert_eq!(
        code(check("invoice.docx", b"PK\x03\x04....")),
        "unsupported_type"
    );
    assert_eq!(code(check("invoice", &png)), "unsupported_type");
    assert_eq!(code(check(".png", &png)), "unsupported_type");
    assert_eq!(
        code(check("invoice.gif", b"GIF89a....")),
        "unsupported_type"
    );
    assert_eq!(code(check("invoice.pdf", &png)), "type_mismatch");
    assert_eq!(
        code(check("invoice.png", b"%PDF-1.4\n...%%EOF")),
        "type_mismatch"
    );
    assert_eq!(
        code(check("invoice.pdf", b"just some text")),
        "type_mismatch"
    );
    assert_eq!(
        code(check("invoice.pdf", b"PK\x03\x04zip")),
        "type_mismatch"
    );
    assert_eq!(
        code(check("invoice.tiff", b"II+\x00bigtiff")),
        "type_mismatch"
    );
    assert_eq!(
        code(check("invoice.pdf", b"\x7fELF\x02\x01\x01")),
        "executable"
    );
    assert_eq!(code(check("invoice.png", b"MZ\x90\x00")), "executable");
    assert_eq!(
        code(check("invoice.jpg", b"#!/bin/sh\nrm -rf /")),
        "executable"
    );
    assert_eq!(
        code(check("invoice.pdf", b"\xcf\xfa\xed\xfe")),
        "executable"
    );

    let json = serde_json::to_value(check("invoice.pdf", b"\x7fELF").unwrap_err()).unwrap();
    assert_eq!(json["code"], "executable");
    assert_eq!(json["file_name"], "invoice.pdf");
    assert_eq!(
        check("x.pdf", b"").unwrap_err().to_string(),
        "x.pdf: the file is empty"
    );
}

#[test]
fn encrypted_and_truncated_pdfs() {
    let bytes = std::fs::read(format!("{INVOICES}QualityHosting.pdf")).unwrap();
    // The same PDF with an /Encrypt entry in its trailer.
    let mut encrypted = bytes.clone();
    let at = encrypted.len() - 200;
    encrypted.splice(
        at..at,
        b"\ntrailer\n<< /Size 10 /Root 1 0 R /Encrypt 9 0 R >>\n"
            .iter()
            .copied(),
    );
    assert_eq!(code(check("q.pdf", &encrypted)), "encrypted_pdf");
    let inline =
        b"%PDF-1.7\n1 0 obj\n<< /Type /XRef /Encrypt << /Filter /Standard /V 2 >> >>\n%%EOF\n";
    assert_eq!(code(check("q.pdf", inline)), "encrypted_pdf");
    // Truncated: the whole (short) file was passed and it has no %%EOF.
    let truncated = &bytes[..bytes.len() / 2];
    assert_eq!(code(check("q.pdf", truncated)), "corrupt_pdf");
    // Only a prefix was passed: the EOF check is skipped, the type check still runs.
    assert_eq!(
        check_document(
            "q.pdf",
            bytes.len() as u64,
            truncated,
            &DocumentPolicy::default()
        ),
        Ok(DocumentKind::Pdf)
    );
}

#[test]
fn async_analysis_for_multi_page_documents() {
    assert!(!needs_async_analysis(DocumentKind::Png, None));
    assert!(!needs_async_analysis(DocumentKind::Jpeg, Some(1)));
    assert!(!needs_async_analysis(DocumentKind::Pdf, Some(1)));
    assert!(needs_async_analysis(DocumentKind::Pdf, Some(2)));
    assert!(needs_async_analysis(DocumentKind::Pdf, None));
    assert!(needs_async_analysis(DocumentKind::Tiff, Some(3)));

    let one = std::fs::read(format!("{TEXTRACT}textractor_sample-invoice.pdf")).unwrap();
    let pages = estimate_pdf_pages(&one);
    assert_eq!(pages, Some(1));
    assert!(!needs_async_analysis(DocumentKind::Pdf, pages));
    let two = std::fs::read(format!("{INVOICES}free_fiber.pdf")).unwrap();
    let pages = estimate_pdf_pages(&two);
    assert!(needs_async_analysis(DocumentKind::Pdf, pages), "{pages:?}");
    assert_eq!(estimate_pdf_pages(b"no pages"), None);
}
