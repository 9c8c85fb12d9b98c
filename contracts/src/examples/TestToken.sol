// SPDX-License-Identifier: BSD-3-Clause-Clear
pragma solidity ^0.8.4;

import {ERC20} from "solady/tokens/ERC20.sol";

/// @title TestToken
/// @notice ERC-20 for tests and local chains: anyone may mint.
contract TestToken is ERC20 {
    string private name_;
    string private symbol_;
    uint8 private immutable decimals_;

    constructor(string memory tokenName, string memory tokenSymbol, uint8 tokenDecimals) {
        name_ = tokenName;
        symbol_ = tokenSymbol;
        decimals_ = tokenDecimals;
    }

    function name() public view override returns (string memory) {
        return name_;
    }

    function symbol() public view override returns (string memory) {
        return symbol_;
    }

    function decimals() public view override returns (uint8) {
        return decimals_;
    }

    /// @notice Mints `amount` to `to`; unrestricted (test token).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
