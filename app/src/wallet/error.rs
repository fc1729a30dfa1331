//! What can go wrong between the page and a wallet, in words a person can act on.

use serde::{Deserialize, Serialize};

/// A wallet, chain or sign-in problem. `Display` is the plain sentence shown on the page: what
/// happened, then what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum WalletError {
    /// No EIP-6963 announcement and no `window.ethereum`.
    #[error(
        "No wallet was found in this browser. Install a wallet extension such as MetaMask or Rabby, then reload this page."
    )]
    NoWallet,
    /// The wallet the person chose is gone (the extension was removed or disabled).
    #[error("That wallet is no longer available. Choose another wallet or reload the page.")]
    WalletGone,
    /// 4001: the person said no in the wallet.
    #[error("You declined the request in your wallet. Nothing was changed; try again when you are ready.")]
    Rejected,
    /// 4100: the site is not connected to the account, or the wallet is locked.
    #[error("Your wallet has not given this site access to the account. Unlock your wallet and connect again.")]
    Unauthorized,
    /// 4200: the wallet cannot do what was asked.
    #[error("Your wallet does not support this request. Try another wallet.")]
    Unsupported,
    /// 4900: the wallet is offline.
    #[error(
        "Your wallet is not connected to any network. Check your internet connection and your wallet, then try again."
    )]
    Disconnected,
    /// 4901: the wallet is offline on the chain asked for.
    #[error(
        "Your wallet is not connected to this network right now. Switch networks in your wallet, or try again shortly."
    )]
    ChainDisconnected,
    /// 4902 after trying to add it too: the wallet does not know the chain.
    #[error(
        "Your wallet does not know the {chain} network and could not add it. Add it in your wallet's network settings, then try again."
    )]
    UnknownChain { chain: String },
    /// The wallet is on another chain than Coop's.
    #[error("Your wallet is on another network. Switch to {chain} to continue.")]
    WrongChain { chain: String },
    /// -32002: a request of the same kind is already open in the wallet.
    #[error("Your wallet already has a request waiting. Open your wallet to answer it.")]
    Pending,
    /// The server refused the sign-in; `message` is the server's reason.
    #[error("Signing in did not work: {message}. Please try again.")]
    SignIn { code: String, message: String },
    /// The server could not be reached or answered in a way the page did not expect.
    #[error("Coop's server did not answer as expected. Check your connection and try again.")]
    Server,
    /// Anything else the wallet reported, with its own words.
    #[error("Your wallet reported a problem: {message}")]
    Other { code: Option<i64>, message: String },
}

impl WalletError {
    /// Maps an EIP-1193 provider error to what the person should hear. `chain` names the chain asked for.
    pub fn from_provider(code: Option<i64>, message: &str, chain: &str) -> Self {
        match code {
            Some(4001) => WalletError::Rejected,
            Some(4100) => WalletError::Unauthorized,
            Some(4200) => WalletError::Unsupported,
            Some(4900) => WalletError::Disconnected,
            Some(4901) => WalletError::ChainDisconnected,
            Some(4902) => WalletError::UnknownChain { chain: chain.to_owned() },
            Some(-32002) => WalletError::Pending,
            // Some wallets wrap a rejection in -32603 with only words to tell.
            _ if message.to_lowercase().contains("user rejected") || message.to_lowercase().contains("user denied") => {
                WalletError::Rejected
            }
            _ => WalletError::Other { code, message: shorten(message) },
        }
    }

    /// Whether the person simply said no: the page shows it gently and changes nothing.
    pub fn is_rejection(&self) -> bool {
        matches!(self, WalletError::Rejected)
    }
}

/// Wallet messages can carry whole stack traces; the page shows at most one sentence's worth.
fn shorten(message: &str) -> String {
    const LIMIT: usize = 200;
    let line = message.lines().next().unwrap_or_default().trim();
    match line.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_eip_1193_code_has_its_own_plain_message() {
        let codes = [4001, 4100, 4200, 4900, 4901, 4902, -32002];
        let messages: Vec<String> = codes
            .iter()
            .map(|code| WalletError::from_provider(Some(*code), "x", "Coop dev chain").to_string())
            .collect();
        for (code, message) in codes.iter().zip(&messages) {
            assert!(message.ends_with('.'), "{code}: {message}");
            assert_eq!(messages.iter().filter(|m| *m == message).count(), 1, "{code}: {message}");
        }
        assert!(messages[5].contains("Coop dev chain"));
    }

    #[test]
    fn a_rejection_told_only_in_words_is_still_a_rejection() {
        let error =
            WalletError::from_provider(Some(-32603), "MetaMask Tx Signature: User denied transaction signature.", "x");
        assert!(error.is_rejection());
    }

    #[test]
    fn an_unknown_error_keeps_only_the_first_line_of_its_message() {
        let long = format!("{}\n    at stack", "x".repeat(500));
        let WalletError::Other { message, .. } = WalletError::from_provider(Some(-1), &long, "x") else { panic!() };
        assert_eq!(message.chars().count(), 201);
    }
}
