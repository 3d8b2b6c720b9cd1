//! Checks an uploaded file before paying for Textract: type by magic bytes and extension
//! (they must agree), size, emptiness, encrypted or truncated PDFs, renamed executables.

use std::sync::LazyLock;

use regex::bytes::Regex;
use serde::{Deserialize, Serialize};

/// Textract's synchronous limit for images and single-page documents is 10 MB.
pub const DEFAULT_MAX_BYTES: u64 = 10 * 1024 * 1024;

/// A PDF's `%%EOF` marker must be within this many bytes of the end.
const PDF_EOF_WINDOW: usize = 1024;
/// The `%PDF-` header may follow a little junk (readers accept up to 1024 bytes).
const PDF_HEADER_WINDOW: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    Pdf,
    Png,
    Jpeg,
    Tiff,
}

impl DocumentKind {
    pub fn content_type(self) -> &'static str {
        match self {
            DocumentKind::Pdf => "application/pdf",
            DocumentKind::Png => "image/png",
            DocumentKind::Jpeg => "image/jpeg",
            DocumentKind::Tiff => "image/tiff",
        }
    }

    fn from_extension(ext: &str) -> Option<DocumentKind> {
        match ext {
            "pdf" => Some(DocumentKind::Pdf),
            "png" => Some(DocumentKind::Png),
            "jpg" | "jpeg" => Some(DocumentKind::Jpeg),
            "tif" | "tiff" => Some(DocumentKind::Tiff),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentPolicy {
    pub max_bytes: u64,
}

impl Default for DocumentPolicy {
    fn default() -> Self {
        DocumentPolicy {
            max_bytes: DEFAULT_MAX_BYTES,
        }
    }
}

/// Why a file is not sent to Textract. `code()` is stable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum DocumentRejection {
    #[error("{file_name}: the file is empty")]
    EmptyFile { file_name: String },
    #[error("{file_name}: {size} bytes exceeds the limit of {max_bytes} bytes")]
    TooLarge {
        file_name: String,
        size: u64,
        max_bytes: u64,
    },
    #[error("{file_name}: unsupported file type `{extension}` (accepted: pdf, png, jpg, jpeg, tif, tiff)")]
    UnsupportedType {
        file_name: String,
        extension: String,
    },
    #[error("{file_name}: the extension says {extension} but the content is {detected}")]
    TypeMismatch {
        file_name: String,
        extension: String,
        detected: String,
    },
    #[error("{file_name}: the PDF is encrypted")]
    EncryptedPdf { file_name: String },
    #[error("{file_name}: the content is an executable ({format})")]
    Executable { file_name: String, format: String },
    #[error("{file_name}: the PDF is damaged or truncated ({detail})")]
    CorruptPdf { file_name: String, detail: String },
}

impl DocumentRejection {
    pub fn code(&self) -> &'static str {
        match self {
            DocumentRejection::EmptyFile { .. } => "empty_file",
            DocumentRejection::TooLarge { .. } => "too_large",
            DocumentRejection::UnsupportedType { .. } => "unsupported_type",
            DocumentRejection::TypeMismatch { .. } => "type_mismatch",
            DocumentRejection::EncryptedPdf { .. } => "encrypted_pdf",
            DocumentRejection::Executable { .. } => "executable",
            DocumentRejection::CorruptPdf { .. } => "corrupt_pdf",
        }
    }
}

/// What the content's magic bytes say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sniffed {
    Document(DocumentKind),
    Executable(&'static str),
    Other(&'static str),
    Unknown,
}

fn sniff(bytes: &[u8]) -> Sniffed {
    const MAGIC: &[(&[u8], Sniffed)] = &[
        (b"\x89PNG\r\n\x1a\n", Sniffed::Document(DocumentKind::Png)),
        (b"\xff\xd8\xff", Sniffed::Document(DocumentKind::Jpeg)),
        (b"II*\x00", Sniffed::Document(DocumentKind::Tiff)),
        (b"MM\x00*", Sniffed::Document(DocumentKind::Tiff)),
        (b"\x7fELF", Sniffed::Executable("ELF")),
        (b"MZ", Sniffed::Executable("Windows PE")),
        (b"#!", Sniffed::Executable("script")),
        (b"\xfe\xed\xfa\xce", Sniffed::Executable("Mach-O")),
        (b"\xfe\xed\xfa\xcf", Sniffed::Executable("Mach-O")),
        (b"\xce\xfa\xed\xfe", Sniffed::Executable("Mach-O")),
        (b"\xcf\xfa\xed\xfe", Sniffed::Executable("Mach-O")),
        (
            b"\xca\xfe\xba\xbe",
            Sniffed::Executable("Mach-O universal or Java class"),
        ),
        (b"\x00asm", Sniffed::Executable("WebAssembly")),
        (b"II+\x00", Sniffed::Other("BigTIFF")),
        (b"PK\x03\x04", Sniffed::Other("ZIP")),
        (b"GIF8", Sniffed::Other("GIF")),
        (b"%!PS", Sniffed::Other("PostScript")),
    ];
    for (magic, kind) in MAGIC {
        if bytes.starts_with(magic) {
            return *kind;
        }
    }
    let window = &bytes[..bytes.len().min(PDF_HEADER_WINDOW)];
    if window.windows(5).any(|w| w == b"%PDF-") {
        return Sniffed::Document(DocumentKind::Pdf);
    }
    Sniffed::Unknown
}

/// `/Encrypt` followed by an indirect reference or a dictionary, in a trailer or an
/// cross-reference stream's dictionary (never compressed, so visible in the raw bytes).
static ENCRYPT: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"/Encrypt\s*(?:\d+\s+\d+\s+R|<<)").ok());

fn extension_of(file_name: &str) -> Option<String> {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    let (stem, ext) = base.rsplit_once('.')?;
    (!stem.is_empty() && !ext.is_empty()).then(|| ext.to_ascii_lowercase())
}

/// Checks a file before analysis.
///
/// `bytes_len` is the object's size (e.g. from S3 HeadObject), checked first so an oversize
/// file need not be downloaded. `content` is the file's bytes: pass the whole file (at most
/// `max_bytes`, as anything larger is already rejected) for the encrypted and truncated PDF
/// checks to be complete. With only a prefix, type checks still work, an `/Encrypt` entry
/// is found only if it is in the prefix (linearized PDFs put it there) and the `%%EOF` check
/// is skipped.
pub fn check_document(
    file_name: &str,
    bytes_len: u64,
    content: &[u8],
    policy: &DocumentPolicy,
) -> Result<DocumentKind, DocumentRejection> {
    let name = || file_name.to_string();
    if bytes_len == 0 || content.is_empty() {
        return Err(DocumentRejection::EmptyFile { file_name: name() });
    }
    if bytes_len > policy.max_bytes {
        return Err(DocumentRejection::TooLarge {
            file_name: name(),
            size: bytes_len,
            max_bytes: policy.max_bytes,
        });
    }
    let sniffed = sniff(content);
    if let Sniffed::Executable(format) = sniffed {
        return Err(DocumentRejection::Executable {
            file_name: name(),
            format: format.to_string(),
        });
    }
    let extension = extension_of(file_name).unwrap_or_default();
    let Some(declared) = DocumentKind::from_extension(&extension) else {
        return Err(DocumentRejection::UnsupportedType {
            file_name: name(),
            extension,
        });
    };
    let detected = match sniffed {
        Sniffed::Document(kind) => kind,
        Sniffed::Other(what) => {
            return Err(DocumentRejection::TypeMismatch {
                file_name: name(),
                extension,
                detected: what.to_string(),
            })
        }
        Sniffed::Unknown => {
            return Err(DocumentRejection::TypeMismatch {
                file_name: name(),
                extension,
                detected: "unknown content".to_string(),
            })
        }
        Sniffed::Executable(format) => {
            return Err(DocumentRejection::Executable {
                file_name: name(),
                format: format.to_string(),
            })
        }
    };
    if detected != declared {
        return Err(DocumentRejection::TypeMismatch {
            file_name: name(),
            extension,
            detected: format!("{detected:?}").to_lowercase(),
        });
    }
    if detected == DocumentKind::Pdf {
        if ENCRYPT.as_ref().is_some_and(|re| re.is_match(content)) {
            return Err(DocumentRejection::EncryptedPdf { file_name: name() });
        }
        if content.len() as u64 == bytes_len {
            let tail = &content[content.len().saturating_sub(PDF_EOF_WINDOW)..];
            if !tail.windows(5).any(|w| w == b"%%EOF") {
                return Err(DocumentRejection::CorruptPdf {
                    file_name: name(),
                    detail: "no %%EOF marker at the end".to_string(),
                });
            }
        }
    }
    Ok(detected)
}

/// A rough page count of a PDF: the `/Type /Page` objects visible in its bytes. `None`
/// when none are visible (compressed object streams hide them) or for other types.
pub fn estimate_pdf_pages(content: &[u8]) -> Option<u32> {
    static PAGE: LazyLock<Option<Regex>> =
        LazyLock::new(|| Regex::new(r"/Type\s*/Page(?:[^s\w]|$)").ok());
    let n = PAGE.as_ref()?.find_iter(content).count();
    (n > 0).then_some(n as u32)
}

/// Whether the document needs the asynchronous StartExpenseAnalysis: the synchronous
/// AnalyzeExpense takes images and single-page PDF/TIFF only. An unknown page count for a
/// PDF or TIFF goes asynchronous (it works for one page too).
pub fn needs_async_analysis(kind: DocumentKind, page_count: Option<u32>) -> bool {
    match kind {
        DocumentKind::Png | DocumentKind::Jpeg => false,
        DocumentKind::Pdf | DocumentKind::Tiff => page_count.is_none_or(|n| n > 1),
    }
}
