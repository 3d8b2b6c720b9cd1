//! The offline [`DocumentAnalyzer`]: a recorded Textract response for the document when one
//! was registered (the CLI registers `<file>.textract.json`), else the text layer of a PDF,
//! else a clear "needs Textract" error.
//!
//! The text layer is read with pdf-extract and laid out like `pdftotext -layout`: glyphs
//! grouped into lines by position, words on a line in x order, and wide gaps kept as runs
//! of spaces (column gaps), which is what `p2p_core::extraction::draft_from_text` reads.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use p2p_core::extraction::DocumentKind;
use pdf_extract::{MediaBox, OutputDev, OutputError, Transform};
use serde_json::Value;

use super::{AnalysisOutput, AnalysisRequest, AnalyzerError, DocumentAnalyzer};

/// A recorded Textract response sits next to its document as `<file>` + this suffix.
pub const RECORDED_RESPONSE_SUFFIX: &str = ".textract.json";

/// Fewer visible characters than this on every page: no usable text layer (a scan).
const MIN_TEXT_CHARS: usize = 16;

/// The offline analyzer. Cheap to clone; recorded responses are shared.
#[derive(Debug, Clone, Default)]
pub struct LocalAnalyzer {
    /// Recorded responses by object key.
    recorded: Arc<Mutex<HashMap<String, Value>>>,
}

impl LocalAnalyzer {
    pub fn new() -> Self {
        LocalAnalyzer::default()
    }

    /// Uses `response` (Textract JSON, see [`AnalysisOutput::from_saved`]) for the object `key`.
    pub fn record(&self, key: &str, response: Value) {
        if let Ok(mut map) = self.recorded.lock() {
            map.insert(key.to_string(), response);
        }
    }

    /// Registers `<file>.textract.json` for `key` when that file exists; returns whether it did.
    pub fn record_sidecar(&self, key: &str, file: &Path) -> Result<bool, AnalyzerError> {
        let mut sidecar = file.as_os_str().to_owned();
        sidecar.push(RECORDED_RESPONSE_SUFFIX);
        let sidecar = Path::new(&sidecar);
        if !sidecar.is_file() {
            return Ok(false);
        }
        let invalid = |message: String| AnalyzerError::InvalidResponse {
            operation: "recorded response",
            message: format!("{}: {message}", sidecar.display()),
        };
        let bytes = std::fs::read(sidecar).map_err(|e| invalid(e.to_string()))?;
        let json: Value = serde_json::from_slice(&bytes).map_err(|e| invalid(e.to_string()))?;
        self.record(key, json);
        Ok(true)
    }

    fn recorded_for(&self, key: &str) -> Option<Value> {
        self.recorded.lock().ok()?.get(key).cloned()
    }
}

#[async_trait]
impl DocumentAnalyzer for LocalAnalyzer {
    async fn analyze_expense(
        &self,
        request: &AnalysisRequest,
    ) -> Result<AnalysisOutput, AnalyzerError> {
        if let Some(json) = self.recorded_for(&request.key) {
            return AnalysisOutput::from_saved(&json);
        }
        if request.kind != DocumentKind::Pdf {
            return Err(AnalyzerError::NeedsTextract {
                key: request.key.clone(),
                reason: format!("{:?} images have no text layer", request.kind).to_lowercase(),
            });
        }
        let content = request.content.clone();
        let key = request.key.clone();
        let text = tokio::task::spawn_blocking(move || layout_text(&content))
            .await
            .map_err(|e| AnalyzerError::UnreadablePdf {
                key: key.clone(),
                message: e.to_string(),
            })?
            .map_err(|message| AnalyzerError::UnreadablePdf {
                key: key.clone(),
                message,
            })?;
        let visible = text.chars().filter(|c| !c.is_whitespace()).count();
        if visible < MIN_TEXT_CHARS {
            return Err(AnalyzerError::NeedsTextract {
                key,
                reason: "the PDF has no text layer (a scan)".to_string(),
            });
        }
        Ok(AnalysisOutput::TextLayer { text })
    }

    async fn analyze_document(
        &self,
        request: &AnalysisRequest,
    ) -> Result<AnalysisOutput, AnalyzerError> {
        // Only a recorded AnalyzeDocument response can stand in for the fallback offline.
        match self
            .recorded_for(&request.key)
            .map(|j| AnalysisOutput::from_saved(&j))
        {
            Some(Ok(out @ AnalysisOutput::Document { .. })) => Ok(out),
            _ => Err(AnalyzerError::NeedsTextract {
                key: request.key.clone(),
                reason: "AnalyzeDocument (FORMS, TABLES) has no offline equivalent".to_string(),
            }),
        }
    }
}

/// The text layer of a PDF, laid out in lines and columns, pages separated by form feeds.
/// Errors (and panics inside the PDF library, which malformed files can trigger) are
/// returned as a message.
pub fn layout_text(pdf: &[u8]) -> Result<String, String> {
    let result = std::panic::catch_unwind(|| -> Result<String, String> {
        let doc = pdf_extract::Document::load_mem(pdf).map_err(|e| e.to_string())?;
        if doc.is_encrypted() {
            return Err("the PDF is encrypted".to_string());
        }
        let mut out = LayoutOutput::default();
        pdf_extract::output_doc(&doc, &mut out).map_err(|e| format!("{e:?}"))?;
        Ok(out.pages.join("\u{c}"))
    });
    result.unwrap_or_else(|_| Err("the PDF library could not read this file".to_string()))
}

struct Glyph {
    x: f64,
    /// From the top of the page.
    y: f64,
    end: f64,
    size: f64,
    text: String,
}

#[derive(Default)]
struct LayoutOutput {
    pages: Vec<String>,
    glyphs: Vec<Glyph>,
    page_top: f64,
}

/// Two glyphs are on one line when their baselines differ by less than this share of the
/// font size.
const SAME_LINE: f64 = 0.4;
/// A gap wider than this share of the font size is a column gap (2+ spaces)...
const COLUMN_GAP: f64 = 1.2;
/// ...and wider than this share a word gap (1 space).
const WORD_GAP: f64 = 0.15;
/// Columns are approximated in half-em steps, at most this many spaces.
const MAX_SPACES: usize = 40;

impl LayoutOutput {
    fn layout_page(&mut self) -> String {
        let mut glyphs = std::mem::take(&mut self.glyphs);
        glyphs.retain(|g| g.x.is_finite() && g.y.is_finite() && !g.text.trim().is_empty());
        glyphs.sort_by(|a, b| a.y.total_cmp(&b.y).then(a.x.total_cmp(&b.x)));
        let mut lines: Vec<Vec<Glyph>> = Vec::new();
        for g in glyphs {
            match lines.last_mut() {
                Some(line)
                    if line.first().is_some_and(|first| {
                        (g.y - first.y).abs() <= first.size.max(g.size) * SAME_LINE
                    }) =>
                {
                    line.push(g)
                }
                _ => lines.push(vec![g]),
            }
        }
        let mut out = String::new();
        for mut line in lines {
            line.sort_by(|a, b| a.x.total_cmp(&b.x));
            let mut last_end: Option<f64> = None;
            for g in &line {
                if let Some(end) = last_end {
                    let gap = g.x - end;
                    if gap > g.size * COLUMN_GAP {
                        let n = ((gap / (g.size * 0.5)).round() as usize).clamp(2, MAX_SPACES);
                        out.extend(std::iter::repeat_n(' ', n));
                    } else if gap > g.size * WORD_GAP {
                        out.push(' ');
                    }
                }
                out.push_str(&g.text);
                last_end = Some(last_end.map_or(g.end, |e| e.max(g.end)));
            }
            out.push('\n');
        }
        out
    }
}

impl OutputDev for LayoutOutput {
    fn begin_page(
        &mut self,
        _page_num: u32,
        media_box: &MediaBox,
        _art_box: Option<(f64, f64, f64, f64)>,
    ) -> Result<(), OutputError> {
        self.page_top = media_box.ury;
        self.glyphs.clear();
        Ok(())
    }

    fn end_page(&mut self) -> Result<(), OutputError> {
        let page = self.layout_page();
        self.pages.push(page);
        Ok(())
    }

    fn output_character(
        &mut self,
        trm: &Transform,
        width: f64,
        _spacing: f64,
        font_size: f64,
        text: &str,
    ) -> Result<(), OutputError> {
        // The font size in device space: the side of the square with the transformed area.
        let sx = font_size * (trm.m11 + trm.m21);
        let sy = font_size * (trm.m12 + trm.m22);
        let size = (sx * sy).abs().sqrt().max(1.0);
        let x = trm.m31;
        self.glyphs.push(Glyph {
            x,
            y: self.page_top - trm.m32,
            end: x + width * size,
            size,
            text: text.to_string(),
        });
        Ok(())
    }

    fn begin_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_line(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
}
