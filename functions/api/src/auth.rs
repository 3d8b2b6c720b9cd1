//! Who is calling, and what they may do.
//!
//! - On AWS ([`AuthMode::Jwt`]) API Gateway's JWT authorizer (a Cognito user pool) has
//!   already verified the token; the function reads the claims from the request context
//!   (`requestContext.authorizer.jwt.claims`). Groups come from `cognito:groups` (or
//!   `groups`); API Gateway flattens the array to `"[ap-clerk ap-approver]"`, which is
//!   parsed here, as are JSON arrays and comma lists. The caller id is the first of
//!   `email`, `username`, `cognito:username`, `sub`: a readable, stable name for audit
//!   entries and segregation-of-duties checks.
//! - Locally with `--dev-auth` ([`AuthMode::DevHeaders`]) the identity is taken from
//!   `X-Dev-User` and `X-Dev-Groups` (comma-separated).
//! - Locally without it ([`AuthMode::Refuse`]) every protected request is refused as
//!   unauthenticated.
//!
//! Roles: `ap-clerk` (vendors, POs, receipts, invoices, reconciliation), `ap-approver`
//! (approve POs and payments, update payments), `ap-admin` (everything, including
//! deletes). Every role reads.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use lambda_http::request::RequestContext;

use crate::problem::ApiError;
use crate::AppState;

pub const DEV_USER_HEADER: &str = "x-dev-user";
pub const DEV_GROUPS_HEADER: &str = "x-dev-groups";
/// Longest accepted caller id (it is stored in records and audit entries).
const MAX_CALLER_ID_LEN: usize = 254;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// Claims from the API Gateway JWT authorizer (Lambda).
    Jwt,
    /// `X-Dev-User` / `X-Dev-Groups` headers (local `--dev-auth`).
    DevHeaders,
    /// Local serving without `--dev-auth`: nobody is authenticated.
    Refuse,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Clerk,
    Approver,
    Admin,
}

impl Role {
    pub fn from_group(group: &str) -> Option<Role> {
        match group.trim().to_ascii_lowercase().as_str() {
            "ap-clerk" => Some(Role::Clerk),
            "ap-approver" => Some(Role::Approver),
            "ap-admin" => Some(Role::Admin),
            _ => None,
        }
    }
    pub fn group(self) -> &'static str {
        match self {
            Role::Clerk => "ap-clerk",
            Role::Approver => "ap-approver",
            Role::Admin => "ap-admin",
        }
    }
}

/// The authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub id: String,
    pub roles: Vec<Role>,
}

impl Caller {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Admins may do everything; others need one of `roles`.
    pub fn require(&self, roles: &[Role], action: &str) -> Result<(), ApiError> {
        if self.has(Role::Admin) || roles.iter().any(|r| self.has(*r)) {
            return Ok(());
        }
        let mut needed: Vec<&str> = roles.iter().map(|r| r.group()).collect();
        needed.push(Role::Admin.group());
        Err(ApiError::Forbidden(format!(
            "{} may not {action}: one of the groups {} is required",
            self.id,
            needed.join(", ")
        )))
    }

    /// Reading needs any AP role.
    pub fn require_reader(&self) -> Result<(), ApiError> {
        self.require(&[Role::Clerk, Role::Approver], "read AP data")
    }

    pub fn is_approver(&self) -> bool {
        self.has(Role::Approver) || self.has(Role::Admin)
    }
}

/// Parses a groups claim: `[a b]` (API Gateway's flattening), a JSON array, or `a,b`.
pub fn parse_groups(raw: &str) -> Vec<Role> {
    let trimmed = raw.trim();
    if let Ok(list) = serde_json::from_str::<Vec<String>>(trimmed) {
        return list.iter().filter_map(|g| Role::from_group(g)).collect();
    }
    trimmed
        .trim_start_matches('[')
        .trim_end_matches(']')
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter_map(Role::from_group)
        .collect()
}

fn valid_id(id: &str) -> Option<String> {
    let id = id.trim();
    (!id.is_empty() && id.len() <= MAX_CALLER_ID_LEN && !id.chars().any(char::is_control))
        .then(|| id.to_string())
}

fn from_claims(claims: &std::collections::HashMap<String, String>) -> Option<Caller> {
    let id = ["email", "username", "cognito:username", "sub"]
        .iter()
        .find_map(|k| claims.get(*k).and_then(|v| valid_id(v)))?;
    let roles = ["cognito:groups", "groups"]
        .iter()
        .find_map(|k| claims.get(*k))
        .map(|g| parse_groups(g))
        .unwrap_or_default();
    Some(Caller { id, roles })
}

fn from_request_context(parts: &Parts) -> Option<Caller> {
    match parts.extensions.get::<RequestContext>()? {
        RequestContext::ApiGatewayV2(ctx) => {
            let claims = &ctx.authorizer.as_ref()?.jwt.as_ref()?.claims;
            from_claims(claims)
        }
        _ => None,
    }
}

fn from_dev_headers(parts: &Parts) -> Result<Caller, ApiError> {
    let user = parts
        .headers
        .get(DEV_USER_HEADER)
        .ok_or_else(|| ApiError::Unauthenticated("X-Dev-User header missing".into()))?;
    // Like the Cognito pool's users, dev callers are e-mail addresses.
    let id = user
        .to_str()
        .ok()
        .and_then(valid_id)
        .and_then(|id| p2p_core::vendor::Email::parse(&id).ok())
        .map(|e| e.as_str().to_string())
        .ok_or_else(|| {
            ApiError::Unauthenticated("X-Dev-User must be the caller's e-mail address".into())
        })?;
    let roles = parts
        .headers
        .get(DEV_GROUPS_HEADER)
        .and_then(|g| g.to_str().ok())
        .map(parse_groups)
        .unwrap_or_default();
    Ok(Caller { id, roles })
}

pub fn authenticate(mode: AuthMode, parts: &Parts) -> Result<Caller, ApiError> {
    match mode {
        AuthMode::Jwt => from_request_context(parts)
            .ok_or_else(|| ApiError::Unauthenticated("no verified JWT claims".into())),
        AuthMode::DevHeaders => from_dev_headers(parts),
        AuthMode::Refuse => Err(ApiError::Unauthenticated(
            "local serving without --dev-auth authenticates nobody".into(),
        )),
    }
}

#[axum::async_trait]
impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = authenticate(state.auth, parts)?;
        tracing::Span::current().record("caller", caller.id.as_str());
        Ok(caller)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_in_every_shape() {
        assert_eq!(
            parse_groups("[ap-clerk ap-approver]"),
            vec![Role::Clerk, Role::Approver]
        );
        assert_eq!(parse_groups(r#"["ap-admin"]"#), vec![Role::Admin]);
        assert_eq!(parse_groups("ap-clerk, other"), vec![Role::Clerk]);
        assert!(parse_groups("").is_empty());
    }

    #[test]
    fn caller_id_prefers_email() {
        let claims = [
            ("sub", "abc-123"),
            ("email", "ann@example.com"),
            ("cognito:groups", "[ap-clerk]"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let c = from_claims(&claims).unwrap();
        assert_eq!(c.id, "ann@example.com");
        assert_eq!(c.roles, vec![Role::Clerk]);
        assert!(c.require(&[Role::Approver], "approve").is_err());
        assert!(c.require_reader().is_ok());
    }
}
