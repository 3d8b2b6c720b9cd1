//! The one definition of the suite's resources: tables (keys, GSIs), buckets, topic, bus,
//! and the environment variables that name them. Provisioning (tests, CLI) creates them from
//! here and a test checks `template.yaml` against it so the two cannot drift apart.

/// A global secondary index: partition key, optional sort key (all String attributes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexSpec {
    pub name: &'static str,
    pub partition_key: &'static str,
    pub sort_key: Option<&'static str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableSpec {
    /// Logical name (CloudFormation resource is `<logical>Table`).
    pub logical: &'static str,
    /// Default physical name (local endpoints, tests).
    pub default_name: &'static str,
    /// Environment variable carrying the physical name.
    pub env_var: &'static str,
    /// Partition key attribute (String).
    pub key: &'static str,
    pub indexes: &'static [IndexSpec],
}

/// Sort-key attribute holding `created_at` (RFC 3339 millis) + `#` + id: time order, unique.
pub const CREATED_SK: &str = "created_sk";
/// Constant partition attribute (the item's kind) for "list everything" queries.
pub const KIND: &str = "kind";

/// Lookup attributes: the normalised keys of `p2p_core::vendor::{tax_id_key, name_key}`
/// and `p2p_core::purchase_order::po_number_key`, written only when non-empty (DynamoDB
/// refuses empty index keys), so their indexes are sparse.
pub const TAX_ID_KEY: &str = "tax_id_key";
pub const NAME_KEY: &str = "name_key";
pub const PO_NUMBER_KEY: &str = "po_number_key";
pub const VENDOR_TAX_ID_INDEX: &str = "tax-id-index";
pub const VENDOR_NAME_INDEX: &str = "name-index";
pub const PO_NUMBER_INDEX: &str = "po-number-index";

const fn gsi(name: &'static str, partition_key: &'static str, sort_key: &'static str) -> IndexSpec {
    IndexSpec {
        name,
        partition_key,
        sort_key: Some(sort_key),
    }
}

pub const VENDORS: TableSpec = TableSpec {
    logical: "Vendors",
    default_name: "p2p-vendors",
    env_var: "VENDORS_TABLE",
    key: "id",
    indexes: &[
        gsi("kind-index", KIND, CREATED_SK),
        gsi("status-index", "status", CREATED_SK),
        // Sparse: only vendors with a tax id carry `tax_id_key`.
        gsi(VENDOR_TAX_ID_INDEX, TAX_ID_KEY, CREATED_SK),
        gsi(VENDOR_NAME_INDEX, NAME_KEY, CREATED_SK),
    ],
};

/// Purchase orders and, as their own item type (`kind = GoodsReceipt`), goods receipts.
pub const PURCHASE_ORDERS: TableSpec = TableSpec {
    logical: "PurchaseOrders",
    default_name: "p2p-purchase-orders",
    env_var: "PURCHASE_ORDERS_TABLE",
    key: "id",
    indexes: &[
        gsi("kind-index", KIND, CREATED_SK),
        gsi("vendor-index", "vendor_id", CREATED_SK),
        gsi("status-index", "status", CREATED_SK),
        // Sparse: only goods receipts carry `po_id`.
        gsi("receipts-by-po-index", "po_id", CREATED_SK),
        // Sparse: only purchase orders carry `po_number_key`.
        gsi(PO_NUMBER_INDEX, PO_NUMBER_KEY, CREATED_SK),
    ],
};

/// Invoices and their invoice-number guard items (`id = guard#<vendor>#<number>`, no
/// index attributes, so guards never appear in an index).
pub const INVOICES: TableSpec = TableSpec {
    logical: "Invoices",
    default_name: "p2p-invoices",
    env_var: "INVOICES_TABLE",
    key: "id",
    indexes: &[
        gsi("kind-index", KIND, CREATED_SK),
        gsi("po-index", "po_id", CREATED_SK),
        gsi("vendor-index", "vendor_id", CREATED_SK),
        gsi("status-index", "status", CREATED_SK),
    ],
};

pub const PAYMENTS: TableSpec = TableSpec {
    logical: "Payments",
    default_name: "p2p-payments",
    env_var: "PAYMENTS_TABLE",
    key: "id",
    indexes: &[
        gsi("kind-index", KIND, CREATED_SK),
        gsi("invoice-index", "invoice_id", CREATED_SK),
        gsi("vendor-index", "vendor_id", CREATED_SK),
        gsi("status-index", "status", CREATED_SK),
    ],
};

/// Sort key of audit entries: `timestamp` (RFC 3339 millis) + `#` + id.
pub const TIMESTAMP_SK: &str = "timestamp_sk";

pub const AUDIT_LOG: TableSpec = TableSpec {
    logical: "AuditLog",
    default_name: "p2p-audit-log",
    env_var: "AUDIT_TABLE",
    key: "id",
    indexes: &[gsi("entity-index", "entity_id", TIMESTAMP_SK)],
};

pub const TABLES: [TableSpec; 5] = [VENDORS, PURCHASE_ORDERS, INVOICES, PAYMENTS, AUDIT_LOG];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NamedResource {
    pub logical: &'static str,
    pub default_name: &'static str,
    pub env_var: &'static str,
}

pub const RAW_BUCKET: NamedResource = NamedResource {
    logical: "RawDocumentsBucket",
    default_name: "p2p-raw-documents",
    env_var: "RAW_BUCKET",
};
pub const PROCESSED_BUCKET: NamedResource = NamedResource {
    logical: "ProcessedDocumentsBucket",
    default_name: "p2p-processed-documents",
    env_var: "PROCESSED_BUCKET",
};
pub const PAYMENTS_BUCKET: NamedResource = NamedResource {
    logical: "PaymentFilesBucket",
    default_name: "p2p-payment-files",
    env_var: "PAYMENTS_BUCKET",
};
pub const BUCKETS: [NamedResource; 3] = [RAW_BUCKET, PROCESSED_BUCKET, PAYMENTS_BUCKET];

pub const NOTIFICATION_TOPIC: NamedResource = NamedResource {
    logical: "NotificationTopic",
    default_name: "p2p-notifications",
    env_var: "NOTIFICATION_TOPIC_ARN",
};
pub const EVENT_BUS: NamedResource = NamedResource {
    logical: "EventBus",
    default_name: "p2p-events",
    env_var: "EVENT_BUS_NAME",
};
pub const STATE_MACHINE: NamedResource = NamedResource {
    logical: "InvoiceWorkflow",
    default_name: "p2p-invoice-workflow",
    env_var: "STATE_MACHINE_ARN",
};
