// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {DataUnionV1} from "./DataUnionV1.sol";

/// @title Deploys Data Unions in one transaction
/// @notice The indexer discovers every DU from `DataUnionCreated`. The caller becomes the DU's owner.
/// `minimumFreezePeriod` is fixed at deployment: one day on a public chain, zero on a dev chain.
contract DataUnionFactoryV1 {
    IERC20 public immutable token;
    uint256 public immutable minimumFreezePeriod;

    event DataUnionCreated(
        address indexed du, address indexed owner, address operator, uint256 adminFee, uint256 freezePeriod
    );

    error FreezePeriodTooShort(uint256 freezePeriod, uint256 minimumFreezePeriod);

    constructor(IERC20 token_, uint256 minimumFreezePeriod_) {
        token = token_;
        minimumFreezePeriod = minimumFreezePeriod_;
    }

    /// Deploys a DU owned by the caller. `joinPartAgents` are the addresses allowed to add and part
    /// members (the server's join-part key among them).
    function createDataUnion(
        address operator,
        address[] calldata joinPartAgents,
        uint256 adminFee,
        uint256 freezePeriod
    ) external returns (DataUnionV1 du) {
        if (freezePeriod < minimumFreezePeriod) revert FreezePeriodTooShort(freezePeriod, minimumFreezePeriod);
        du = new DataUnionV1(token, msg.sender, operator, joinPartAgents, adminFee, freezePeriod);
        emit DataUnionCreated(address(du), msg.sender, operator, adminFee, freezePeriod);
    }
}
