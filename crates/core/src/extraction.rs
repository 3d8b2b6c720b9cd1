//! Textract and text-layer extraction into invoice drafts (see the ingestion issue).
