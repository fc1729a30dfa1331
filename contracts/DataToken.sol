// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title DATA for development and test chains
/// @notice An ERC-20 with EIP-2612 permit, so a DATA purchase can be a single transaction.
/// The owner (the deployer) mints; on a public chain the real DATA token is configured instead.
contract DataToken is ERC20, ERC20Permit, Ownable {
    constructor(address initialOwner) ERC20("Coop Test DATA", "DATA") ERC20Permit("Coop Test DATA") Ownable(initialOwner) {}

    function mint(address to, uint256 amount) external onlyOwner {
        _mint(to, amount);
    }
}
