//! DataUnionFactory: one transaction creates a DU and announces it.

use alloy::primitives::U256;
use coop::contracts::{
    DataUnion::{self, DataUnionErrors},
    DataUnionFactory::{self, DataUnionFactoryErrors},
};
use coop_server::deploy;

use crate::helpers::*;

#[tokio::test]
async fn creating_a_data_union_announces_it_with_its_settings() {
    let chain = Chain::start().await;
    let fee = U256::from(TOKEN / 10);

    let receipt = send(chain.du_factory(OWNER).createDataUnion(
        chain.address(OPERATOR),
        vec![chain.address(AGENT), chain.address(OTHER)],
        fee,
        U256::from(60),
    ))
    .await;
    report_gas("DataUnionFactory.createDataUnion", &receipt);

    let created = event::<DataUnionFactory::DataUnionCreated>(&receipt);
    assert_eq!(created.owner, chain.address(OWNER));
    assert_eq!(created.operator, chain.address(OPERATOR));
    assert_eq!((created.adminFee, created.freezePeriod), (fee, U256::from(60)));
    let du = chain.du(created.du, MEMBER);
    assert_eq!(du.owner().call().await.unwrap(), chain.address(OWNER));
    assert_eq!(du.operator().call().await.unwrap(), chain.address(OPERATOR));
    assert_eq!(du.adminFee().call().await.unwrap(), fee);
    assert_eq!(du.freezePeriod().call().await.unwrap(), U256::from(60));
    assert_eq!(du.token().call().await.unwrap(), chain.deployment.data_token);
    assert!(du.isJoinPartAgent(chain.address(AGENT)).call().await.unwrap());
    assert!(du.isJoinPartAgent(chain.address(OTHER)).call().await.unwrap());
    assert!(!du.isJoinPartAgent(chain.address(OWNER)).call().await.unwrap());
    // The DU's own creation logs carry no settings the engine would count twice.
    assert!(events::<DataUnion::AdminFeeChanged>(&receipt).is_empty());
}

#[tokio::test]
async fn an_admin_fee_above_100_percent_or_no_operator_is_refused_at_creation() {
    let chain = Chain::start().await;
    let factory = chain.du_factory(OWNER);
    let too_high = U256::from(TOKEN) + U256::from(1);

    let error =
        revert::<DataUnionErrors, _, _>(factory.createDataUnion(chain.address(OPERATOR), vec![], too_high, U256::ZERO))
            .await;
    assert_eq!(error, DataUnionErrors::AdminFeeTooHigh(DataUnion::AdminFeeTooHigh { adminFee: too_high }));

    let error = revert::<DataUnionErrors, _, _>(factory.createDataUnion(
        alloy::primitives::Address::ZERO,
        vec![],
        U256::ZERO,
        U256::ZERO,
    ))
    .await;
    assert_eq!(error, DataUnionErrors::ZeroAddress(DataUnion::ZeroAddress {}));
}

#[tokio::test]
async fn a_factory_off_a_dev_chain_refuses_a_freeze_period_under_a_day() {
    let chain = Chain::start().await;
    let minimum = U256::from(deploy::minimum_freeze_period(1));
    let deployer = chain.wallet(DEPLOYER);
    let factory = DataUnionFactory::deploy(deployer, chain.deployment.data_token, minimum).await.unwrap();
    let factory = DataUnionFactory::new(*factory.address(), chain.wallet(OWNER));

    let error = revert::<DataUnionFactoryErrors, _, _>(factory.createDataUnion(
        chain.address(OPERATOR),
        vec![],
        U256::ZERO,
        U256::from(3600),
    ))
    .await;
    assert_eq!(
        error,
        DataUnionFactoryErrors::FreezePeriodTooShort(DataUnionFactory::FreezePeriodTooShort {
            freezePeriod: U256::from(3600),
            minimumFreezePeriod: minimum,
        })
    );
    send(factory.createDataUnion(chain.address(OPERATOR), vec![], U256::ZERO, minimum)).await;
}

#[tokio::test]
async fn anyone_can_deploy_a_union_naming_any_operator_with_a_freeze_period_no_u64_holds() {
    let chain = Chain::start().await;
    let huge = U256::from(1u8) << 70;

    let du = chain.create_data_union_as(OTHER, huge).await;

    let union = chain.du(du, MEMBER);
    assert_eq!(union.owner().call().await.unwrap(), chain.address(OTHER));
    assert_eq!(union.operator().call().await.unwrap(), chain.address(OPERATOR), "a server's key, named by a stranger");
    assert_eq!(union.freezePeriod().call().await.unwrap(), huge);
}
