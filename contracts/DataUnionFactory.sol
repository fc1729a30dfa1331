// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {DataUnion} from "./DataUnion.sol";

/// @title Deploys Data Unions in one transaction
/// @notice The indexer discovers every DU from `DataUnionCreated`. The caller becomes the DU's owner.
/// Each DU is a minimal proxy (EIP-1167) of `implementation`, set up in the same transaction.
/// `minimumFreezePeriod` is fixed at deployment: one day on a public chain, zero on a dev chain.
contract DataUnionFactory {
    IERC20 public immutable token;
    uint256 public immutable minimumFreezePeriod;
    DataUnion public immutable implementation;

    event DataUnionCreated(
        address indexed du, address indexed owner, address operator, uint256 adminFee, uint256 freezePeriod
    );

    error FreezePeriodTooShort(uint256 freezePeriod, uint256 minimumFreezePeriod);

    constructor(IERC20 token_, uint256 minimumFreezePeriod_) {
        token = token_;
        minimumFreezePeriod = minimumFreezePeriod_;
        implementation = new DataUnion();
    }

    /// Deploys a DU owned by the caller. `joinPartAgents` are the addresses allowed to add and part
    /// members (the server's join-part key among them); `validators` may veto a frozen commit.
    function createDataUnion(
        address operator,
        address[] calldata joinPartAgents,
        address[] calldata validators,
        uint256 adminFee,
        uint256 freezePeriod
    ) external returns (DataUnion du) {
        if (freezePeriod < minimumFreezePeriod) revert FreezePeriodTooShort(freezePeriod, minimumFreezePeriod);
        du = DataUnion(Clones.clone(address(implementation)));
        // Announced first, so that an indexer knows the union when its own set-up logs come.
        emit DataUnionCreated(address(du), msg.sender, operator, adminFee, freezePeriod);
        du.initialize(token, msg.sender, operator, joinPartAgents, validators, adminFee, freezePeriod);
    }
}
