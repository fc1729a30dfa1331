// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title Test only: an ERC-20 that calls back into its caller's world from its own transfers
/// @notice Once armed, each outermost `transfer` or `transferFrom`, after moving the tokens, calls
/// `target` with `callData` as this token, for up to `shots` transfers: a reentrancy attempt into
/// whatever contract is moving the token (the adapter's `buyWithERC20` mid-purchase, a union's
/// `withdraw`). A callback that fails is swallowed and reported (`CallbackMade`), so the transfer goes on;
/// one that succeeds keeps its effects. Transfers made during a callback do not call back again.
contract HostileToken is ERC20 {
    address public target;
    bytes public callData;
    uint256 public shots;
    bool private inCallback;

    event CallbackMade(address indexed target, bool success, bytes returnData);

    constructor() ERC20("Hostile Test Token", "HOSTILE") {}

    /// Anyone mints: the token is hostile, not scarce.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// Makes the token itself call `to` (to approve a spender of its own balances, say).
    function execute(address to, bytes calldata data) external returns (bytes memory) {
        (bool success, bytes memory returnData) = to.call(data);
        if (!success) {
            assembly ("memory-safe") {
                revert(add(returnData, 0x20), mload(returnData))
            }
        }
        return returnData;
    }

    /// The next `shots_` outermost transfers each call `target_` with `data`; 0 disarms.
    function arm(address target_, bytes calldata data, uint256 shots_) external {
        target = target_;
        callData = data;
        shots = shots_;
    }

    function transfer(address to, uint256 value) public override returns (bool) {
        super.transfer(to, value);
        _callBack();
        return true;
    }

    function transferFrom(address from, address to, uint256 value) public override returns (bool) {
        super.transferFrom(from, to, value);
        _callBack();
        return true;
    }

    function _callBack() private {
        if (shots == 0 || inCallback) return;
        shots--;
        inCallback = true;
        (bool success, bytes memory returnData) = target.call(callData);
        inCallback = false;
        emit CallbackMade(target, success, returnData);
    }
}
