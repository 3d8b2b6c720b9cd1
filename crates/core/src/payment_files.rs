//! Payment files: Workday XML/JSON and ISO 20022 pain.001.001.09.
