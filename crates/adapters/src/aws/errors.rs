//! SDK errors to [`StoreError`]: by the service's error code and the HTTP status, never by
//! matching Rust type names. Each operation first handles the codes it expects (a failed
//! condition, a missing key) and hands the rest to [`map_sdk_error`].

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::error::StoreError;

/// The resource a call addressed, to name it (and its environment variable) in errors.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub resource: String,
    pub env_var: &'static str,
}

impl Target {
    pub fn new(resource: impl Into<String>, env_var: &'static str) -> Self {
        Target {
            resource: resource.into(),
            env_var,
        }
    }

    pub fn misconfigured(&self, message: impl Into<String>) -> StoreError {
        StoreError::Misconfigured {
            resource: self.resource.clone(),
            env_var: self.env_var,
            message: message.into(),
        }
    }
}

/// Error codes that mean "slow down and try again" across the services we call.
const THROTTLING_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "SlowDown",
    "LimitExceededException",
    "TransactionInProgressException",
    "InternalServerError",
    "InternalFailure",
    "InternalError",
    "InternalException",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "RequestTimeout",
    "RequestTimeoutException",
];

/// Codes that mean the addressed resource does not exist (a configuration problem: the
/// name in the environment points nowhere).
const MISSING_RESOURCE_CODES: &[&str] = &[
    "ResourceNotFoundException",
    "NoSuchBucket",
    "NotFound",
    "NotFoundException",
    "StateMachineDoesNotExist",
    "InvalidArn",
];

pub(crate) fn is_throttling_code(code: &str) -> bool {
    THROTTLING_CODES.contains(&code)
}

/// The service error code, if the call got as far as a service response.
pub(crate) fn error_code<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> Option<&str> {
    match err {
        SdkError::ServiceError(e) => e.err().code(),
        _ => None,
    }
}

pub(crate) fn http_status<E>(err: &SdkError<E, HttpResponse>) -> Option<u16> {
    err.raw_response().map(|r| r.status().as_u16())
}

/// The generic mapping: transport problems and throttling are `Transient`, a missing
/// resource is `Misconfigured`, a rejected request `Invalid`, the rest `Backend`.
pub(crate) fn map_sdk_error<E>(
    operation: &str,
    target: &Target,
    err: SdkError<E, HttpResponse>,
) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let operation = operation.to_string();
    match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            StoreError::Transient {
                operation,
                message: describe(&err),
            }
        }
        SdkError::ConstructionFailure(_) => StoreError::Invalid(format!(
            "{operation} on {}: {}",
            target.resource,
            describe(&err)
        )),
        SdkError::ServiceError(service) => {
            let code = service.err().code().unwrap_or("");
            let status = service.raw().status().as_u16();
            let message = service
                .err()
                .message()
                .map(str::to_string)
                .unwrap_or_else(|| describe(&err));
            if is_throttling_code(code) || status >= 500 || status == 429 {
                StoreError::Transient {
                    operation,
                    message: format!("{code} ({status}): {message}"),
                }
            } else if MISSING_RESOURCE_CODES.contains(&code) {
                target.misconfigured(format!("{operation}: {code}: {message}"))
            } else if code == "ValidationException" && message.contains("index") {
                // A table without the index this code queries: the table predates schema.rs.
                target.misconfigured(format!("{operation}: {message}"))
            } else if code == "ValidationException"
                || code == "InvalidParameterException"
                || code == "InvalidParameter"
                || code == "InvalidRequest"
                || code == "InvalidArgument"
            {
                StoreError::Invalid(format!("{operation} on {}: {message}", target.resource))
            } else if code == "AccessDeniedException"
                || code == "AccessDenied"
                || code == "AuthorizationError"
                || code == "UnrecognizedClientException"
            {
                target.misconfigured(format!("{operation}: {code}: {message}"))
            } else {
                StoreError::Backend {
                    operation,
                    message: format!("{code} ({status}): {message}"),
                }
            }
        }
        _ => StoreError::Backend {
            operation,
            message: describe(&err),
        },
    }
}

/// The error with its sources (the SDK's Display alone says only "service error").
pub(crate) fn describe(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::operation::get_item::GetItemError;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    fn service_error(code: &str, status: u16) -> SdkError<GetItemError, HttpResponse> {
        SdkError::service_error(
            GetItemError::generic(ErrorMetadata::builder().code(code).message("m").build()),
            HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::empty()),
        )
    }

    fn target() -> Target {
        Target::new("DynamoDB table `t`", "INVOICES_TABLE")
    }

    #[test]
    fn throttling_and_server_errors_are_transient() {
        for (code, status) in [
            ("ThrottlingException", 400),
            ("ProvisionedThroughputExceededException", 400),
            ("RequestLimitExceeded", 400),
            ("SomethingNew", 503),
        ] {
            let e = map_sdk_error("GetItem", &target(), service_error(code, status));
            assert!(e.is_retryable(), "{code}: {e:?}");
        }
    }

    #[test]
    fn missing_resource_is_misconfigured_with_its_variable() {
        let e = map_sdk_error(
            "GetItem",
            &target(),
            service_error("ResourceNotFoundException", 400),
        );
        assert!(
            matches!(&e, StoreError::Misconfigured { env_var: "INVOICES_TABLE", resource, .. } if resource.contains('t')),
            "{e:?}"
        );
    }

    #[test]
    fn refused_requests_are_invalid_and_the_rest_backend() {
        let e = map_sdk_error(
            "GetItem",
            &target(),
            service_error("ValidationException", 400),
        );
        assert!(matches!(e, StoreError::Invalid(_)), "{e:?}");
        let e = map_sdk_error("GetItem", &target(), service_error("Weird", 400));
        assert!(matches!(e, StoreError::Backend { .. }), "{e:?}");
    }
}
