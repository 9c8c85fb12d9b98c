// SPDX-License-Identifier: BSD-3-Clause-Clear
pragma solidity ^0.8.4;

import {LibRLP} from "solady/utils/LibRLP.sol";
import {Registry} from "../src/Registry.sol";
import {EIP712Coordinator} from "../src/EIP712Coordinator.sol";
import {Inbox} from "../src/Inbox.sol";
import {Reader} from "../src/utility/Reader.sol";
import {Fee} from "../src/payments/Fee.sol";
import {WalletFactory} from "../src/payments/WalletFactory.sol";

/// @title LibDeploy
/// @notice Deploys the core contracts in the registry order: Registry (nonce n), then
///         EIP712Coordinator, Inbox, Reader, Fee and WalletFactory at nonces n+1..n+5, whose
///         addresses the Registry is given in advance.
library LibDeploy {
    struct Core {
        Registry registry;
        EIP712Coordinator coordinator;
        Inbox inbox;
        Reader reader;
        Fee fee;
        WalletFactory walletFactory;
    }

    /// @param deployer The address whose CREATE nonces are used (the caller of `new`).
    /// @param initialNonce Its nonce before the first deployment.
    function deployContracts(address deployer, uint256 initialNonce, address feeRecipient, uint16 fee)
        internal
        returns (Core memory core)
    {
        address coordinator = LibRLP.computeAddress(deployer, initialNonce + 1);
        address inbox = LibRLP.computeAddress(deployer, initialNonce + 2);
        address reader = LibRLP.computeAddress(deployer, initialNonce + 3);
        address feeAddress = LibRLP.computeAddress(deployer, initialNonce + 4);
        address walletFactory = LibRLP.computeAddress(deployer, initialNonce + 5);

        core.registry = new Registry(coordinator, inbox, reader, feeAddress, walletFactory);
        core.coordinator = new EIP712Coordinator(core.registry);
        core.inbox = new Inbox(core.registry);
        core.reader = new Reader(core.registry);
        core.fee = new Fee(feeRecipient, fee);
        core.walletFactory = new WalletFactory(core.registry);

        require(address(core.coordinator) == coordinator, "Coordinator address mismatch");
        require(address(core.inbox) == inbox, "Inbox address mismatch");
        require(address(core.reader) == reader, "Reader address mismatch");
        require(address(core.fee) == feeAddress, "Fee address mismatch");
        require(address(core.walletFactory) == walletFactory, "WalletFactory address mismatch");
    }
}
