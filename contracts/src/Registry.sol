// SPDX-License-Identifier: BSD-3-Clause-Clear
pragma solidity ^0.8.4;

/// @title Registry
/// @notice Immutable address book of the five core contracts. Every other contract reads its
///         peers from here once, in its constructor; an off-chain node needs only this address.
/// @dev The five addresses are predicted before deployment (CREATE addresses of the deployer's
///      next nonces), because the core contracts in turn read the registry when constructed.
contract Registry {
    address public immutable COORDINATOR;
    address public immutable INBOX;
    address public immutable READER;
    address public immutable FEE;
    address public immutable WALLET_FACTORY;

    constructor(address coordinator, address inbox, address reader, address fee, address walletFactory) {
        COORDINATOR = coordinator;
        INBOX = inbox;
        READER = reader;
        FEE = fee;
        WALLET_FACTORY = walletFactory;
    }
}
