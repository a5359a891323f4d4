//! Bearer-token authentication. Tokens are random, shown once when a contributor is
//! created, and stored only as SHA-256 hashes; they are never logged. Every authenticated
//! request also draws from the token's rate-limit bucket.

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use bridgenotes_storage::Contributor;
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::error::ApiError;

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of a token, hex: what the database keeps.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// `n` random bytes as hex.
pub fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).expect("the operating system's random source works");
    hex(&bytes)
}

/// A new API token.
pub fn new_token() -> String {
    format!("bn_{}", random_hex(32))
}

fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    let header = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "missing_token",
                "send an API token: Authorization: Bearer <token>",
            )
        })?;
    header
        .to_str()
        .ok()
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "the Authorization header must be: Bearer <token>",
            )
        })
}

fn rate_limit(state: &AppState, hash: &str) -> Result<(), ApiError> {
    if state.limiter.allow(hash) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many requests with this token; slow down",
        ))
    }
}

/// The contributor making the request.
pub struct Caller(pub Contributor);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let hash = token_hash(bearer(parts)?);
        rate_limit(state, &hash)?;
        match state.store.contributor_by_token_hash(&hash).await? {
            Some(contributor) => Ok(Caller(contributor)),
            None => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "unknown API token",
            )),
        }
    }
}

/// The administrator (the token given on the command line).
pub struct Admin;

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let hash = token_hash(bearer(parts)?);
        rate_limit(state, &hash)?;
        match &state.admin_token_hash {
            Some(admin) if *admin == hash => Ok(Admin),
            _ => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "admin_only",
                "this needs the administrator token",
            )),
        }
    }
}
