// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title DAI for development and test chains
/// @notice A plain ERC-20 (no permit), so the DAI checkout exercises approve-then-buy.
contract TestDai is ERC20, Ownable {
    constructor(address initialOwner) ERC20("Coop Test DAI", "DAI") Ownable(initialOwner) {}

    function mint(address to, uint256 amount) external onlyOwner {
        _mint(to, amount);
    }
}
