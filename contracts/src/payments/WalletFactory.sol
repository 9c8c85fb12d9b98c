// SPDX-License-Identifier: BSD-3-Clause-Clear
pragma solidity ^0.8.4;

import {Registry} from "../Registry.sol";
import {Wallet} from "./Wallet.sol";

/// @title WalletFactory
/// @notice Creates Wallets (plain CREATE, so addresses follow this contract's nonce) and
///         tells factory-made wallets apart from any other address.
contract WalletFactory {
    Registry private immutable REGISTRY;

    mapping(address => bool) private wallets;

    /// @notice `caller` created `wallet` owned by `owner`.
    event WalletCreated(address indexed caller, address indexed owner, address wallet);

    constructor(Registry registry) {
        REGISTRY = registry;
    }

    /// @notice Creates a Wallet owned by `initialOwner`.
    function createWallet(address initialOwner) external returns (address) {
        address wallet = address(new Wallet(REGISTRY, initialOwner));
        wallets[wallet] = true;
        emit WalletCreated(msg.sender, initialOwner, wallet);
        return wallet;
    }

    /// @notice Whether `wallet` was created by this factory.
    function isValidWallet(address wallet) external view returns (bool) {
        return wallets[wallet];
    }
}
