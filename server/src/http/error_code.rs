//! The machine-readable reason in an API error's body (`error.code`). Clients match on these names,
//! so one never changes once published; this list is every code the API answers with.

macro_rules! error_codes {
    ($($variant:ident = $name:literal,)+) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($variant,)+
        }

        impl ErrorCode {
            /// Every code, in the order of the list.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)+];

            /// The name clients see.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $name,)+
                }
            }
        }
    };
}

error_codes! {
        // The request.
        InvalidPath = "invalid_path",
        InvalidAddress = "invalid_address",
        BadChecksum = "bad_checksum",
        InvalidProductId = "invalid_product_id",
        InvalidInteger = "invalid_integer",
        InvalidAmount = "invalid_amount",
        OutOfRange = "out_of_range",
        InvalidQuery = "invalid_query",
        MissingParameter = "missing_parameter",
        InvalidChoice = "invalid_choice",
        TooLong = "too_long",
        InvalidSearch = "invalid_search",
        InvalidBody = "invalid_body",
        NotJson = "not_json",
        InvalidDraft = "invalid_draft",
        InvalidName = "invalid_name",
        TooLarge = "too_large",
        Empty = "empty",
        UnsupportedType = "unsupported_type",
        CrossSite = "cross_site",
        // Signing in (`POST /api/v1/auth/sign-in`) and sessions.
        MalformedBody = "malformed_body",
        MessageTooLong = "message_too_long",
        MalformedMessage = "malformed_message",
        MalformedTime = "malformed_time",
        MalformedSignature = "malformed_signature",
        WrongDomain = "wrong_domain",
        WrongUri = "wrong_uri",
        WrongChain = "wrong_chain",
        MessageExpired = "message_expired",
        MessageNotYetValid = "message_not_yet_valid",
        IssuedInFuture = "issued_in_future",
        BadSignature = "bad_signature",
        NonceUsed = "nonce_used",
        NonceExpired = "nonce_expired",
        NonceUnknown = "nonce_unknown",
        NotSignedIn = "not_signed_in",
        InvalidReadToken = "invalid_read_token",
        NotOwner = "not_owner",
        // Join requests and secrets.
        StaleRequest = "stale_request",
        ReplayedRequest = "replayed_request",
        MalformedSecret = "malformed_secret",
        UnknownSecret = "unknown_secret",
        AlreadyMember = "already_member",
        AlreadyRequested = "already_requested",
        NotDecidable = "not_decidable",
        NotAMember = "not_a_member",
        NoJoinAgent = "no_join_agent",
        NotServed = "not_served",
        QuotaExceeded = "quota_exceeded",
        // Relayed withdrawals.
        NothingToWithdraw = "nothing_to_withdraw",
        FeeTooLow = "fee_too_low",
        RelayFailed = "relay_failed",
        // Product streams and app keys.
        InvalidMessage = "invalid_message",
        StaleMessage = "stale_message",
        SequenceNotAfter = "sequence_not_after",
        NotAPublisher = "not_a_publisher",
        NotAReader = "not_a_reader",
        AppKeyNotGranted = "app_key_not_granted",
        InvalidGrant = "invalid_grant",
        NotAWebSocket = "not_a_websocket",
        // Things that are not there, or not in a state to answer.
        NotFound = "not_found",
        NoBook = "no_book",
        ProductNotListed = "product_not_listed",
        NotDeployed = "not_deployed",
        InsufficientLiquidity = "insufficient_liquidity",
        UnionQuarantined = "union_quarantined",
        // The server.
        TooManyRequests = "too_many_requests",
        Busy = "busy",
        Timeout = "timeout",
        DatabaseUnavailable = "database_unavailable",
        ChainUnavailable = "chain_unavailable",
        Internal = "internal",
}

impl serde::Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// In the OpenAPI document: a string that is one of the codes.
impl utoipa::PartialSchema for ErrorCode {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(ErrorCode::ALL.iter().map(|code| code.as_str())))
            .into()
    }
}

impl utoipa::ToSchema for ErrorCode {}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_code_has_its_own_snake_case_name() {
        let names: HashSet<&str> = ErrorCode::ALL.iter().map(|code| code.as_str()).collect();
        assert_eq!(names.len(), ErrorCode::ALL.len(), "two codes share a name");
        for name in names {
            assert!(name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'), "{name}");
        }
    }
}
