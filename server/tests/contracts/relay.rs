//! Withdrawals a member signs (EIP-712) and anyone sends: the fee to the sender, the rest to the
//! recipient, once, before the deadline, only with the member's signature.

use alloy::primitives::{Address, Bytes, U256};
use alloy::signers::SignerSync;
use alloy::sol_types::SolStruct;
use coop::{
    book::Book,
    contracts::{
        DataUnion::{self, DataUnionErrors as E},
        Withdrawal, withdrawal_domain,
    },
};

use crate::helpers::*;

/// A union with `MEMBER` proven to have earned 10 DATA in a provable commit, and that commit's book.
async fn earned() -> (Chain, Address, Book) {
    let chain = Chain::start().await;
    let du = chain.create_data_union(U256::ZERO, 0).await;
    chain.mint_data(du, tokens(10)).await;
    let book = Book::new(chain.block_number().await, vec![(chain.address(MEMBER), tokens(10))]).unwrap();
    let hash = chain.block_hash(book.block()).await;
    send(chain.du(du, OPERATOR).commit(U256::from(book.block()), hash, book.root(), book.book_hash())).await;
    chain.advance_time(1).await;
    (chain, du, book)
}

/// `signer`'s signature of `withdrawal` for the union at `du`.
fn sign(chain: &Chain, du: Address, signer: usize, withdrawal: &Withdrawal) -> Bytes {
    let digest = withdrawal.eip712_signing_hash(&withdrawal_domain(31_337, du));
    chain.signer(signer).sign_hash_sync(&digest).unwrap().as_bytes().into()
}

#[tokio::test]
async fn anyone_sends_a_members_signed_withdrawal_once_and_takes_only_the_signed_fee() {
    let (chain, du, book) = earned().await;
    let (member, recipient) = (chain.address(MEMBER), chain.address(DEPLOYER));
    let deadline = U256::from(chain.timestamp().await + 600);
    let withdrawal = Withdrawal { member, recipient, fee: tokens(1), nonce: U256::ZERO, deadline };
    let signature = sign(&chain, du, MEMBER, &withdrawal);
    let relayer = chain.du(du, OTHER);
    let before = (chain.data_balance(recipient).await, chain.data_balance(chain.address(OTHER)).await);
    let call = |fee: U256, signature: Bytes| {
        relayer.withdrawAllToSigned(
            member,
            recipient,
            fee,
            deadline,
            U256::from(book.block()),
            tokens(10),
            book.proof(0).unwrap(),
            signature,
        )
    };

    // A higher fee than the member signed is another message: its signature is not the member's.
    let error = revert::<E, _, _>(call(tokens(2), signature.clone())).await;
    assert_eq!(error, E::InvalidSignature(DataUnion::InvalidSignature {}));
    let receipt = send(call(tokens(1), signature.clone())).await;
    report_gas("DataUnion.withdrawAllToSigned (prove + fee + withdraw)", &receipt);

    assert_eq!(chain.data_balance(recipient).await - before.0, tokens(9));
    assert_eq!(chain.data_balance(chain.address(OTHER)).await - before.1, tokens(1));
    assert_eq!(relayer.withdrawalNonce(member).call().await.unwrap(), U256::from(1));
    // The same signature again is refused: the nonce moved on.
    let error = revert::<E, _, _>(call(tokens(1), signature)).await;
    assert_eq!(error, E::InvalidSignature(DataUnion::InvalidSignature {}));
}

#[tokio::test]
async fn a_stale_foreign_or_greedy_signature_is_refused_and_moves_nothing() {
    let (chain, du, book) = earned().await;
    let member = chain.address(MEMBER);
    let now = chain.timestamp().await;
    let relayer = chain.du(du, OTHER);
    let attempt = |withdrawal: Withdrawal, signer: usize| {
        let signature = sign(&chain, du, signer, &withdrawal);
        relayer.withdrawAllToSigned(
            withdrawal.member,
            withdrawal.recipient,
            withdrawal.fee,
            withdrawal.deadline,
            U256::from(book.block()),
            tokens(10),
            book.proof(0).unwrap(),
            signature,
        )
    };
    let fair =
        Withdrawal { member, recipient: member, fee: tokens(1), nonce: U256::ZERO, deadline: U256::from(now + 600) };

    let stale = Withdrawal { deadline: U256::from(now - 1), ..fair.clone() };
    let error = revert::<E, _, _>(attempt(stale, MEMBER)).await;
    assert!(matches!(error, E::SignatureExpired(_)), "{error:?}");
    let error = revert::<E, _, _>(attempt(fair.clone(), OTHER)).await;
    assert_eq!(error, E::InvalidSignature(DataUnion::InvalidSignature {}), "signed by someone else");
    let greedy = Withdrawal { fee: tokens(10), ..fair.clone() };
    let error = revert::<E, _, _>(attempt(greedy, MEMBER)).await;
    assert_eq!(error, E::FeeTooHigh(DataUnion::FeeTooHigh { fee: tokens(10), available: tokens(10) }));

    assert_eq!(relayer.withdrawn(member).call().await.unwrap(), U256::ZERO);
    assert_eq!(relayer.withdrawalNonce(member).call().await.unwrap(), U256::ZERO);
    // Another union's signature (its own domain) does not work here either.
    let other_union = chain.create_data_union(U256::ZERO, 0).await;
    let digest = fair.eip712_signing_hash(&withdrawal_domain(31_337, other_union));
    let signature: Bytes = chain.signer(MEMBER).sign_hash_sync(&digest).unwrap().as_bytes().into();
    let call = relayer.withdrawAllToSigned(
        member,
        member,
        fair.fee,
        fair.deadline,
        U256::from(book.block()),
        tokens(10),
        book.proof(0).unwrap(),
        signature,
    );
    assert_eq!(revert::<E, _, _>(call).await, E::InvalidSignature(DataUnion::InvalidSignature {}));
}
