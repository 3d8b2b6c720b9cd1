//! Invoice-to-PO (and goods receipt) matching.
