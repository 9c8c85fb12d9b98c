// SPDX-License-Identifier: BSD-3-Clause-Clear
pragma solidity ^0.8.4;

import {Registry} from "../Registry.sol";
import {Coordinator} from "../Coordinator.sol";
import {Inbox} from "../Inbox.sol";

/// @title BaseConsumer
/// @notice Receives deliveries from the coordinator and serves container inputs to nodes.
abstract contract BaseConsumer {
    Coordinator internal immutable COORDINATOR;
    Inbox internal immutable INBOX;

    /// @notice Thrown when rawReceiveCompute is called by anyone but the coordinator.
    error NotCoordinator();

    constructor(address registry) {
        COORDINATOR = Coordinator(Registry(registry).COORDINATOR());
        INBOX = Inbox(Registry(registry).INBOX());
    }

    /// @notice Handles one delivery. Eager subscriptions get the bytes with containerId 0 and
    ///         index 0; lazy ones get empty bytes and the Inbox position (containerId, index) of
    ///         the item stored under `node`.
    /// @param redundancy 1-based position of this delivery within its interval.
    function _receiveCompute(
        uint32 subscriptionId,
        uint32 interval,
        uint16 redundancy,
        address node,
        bytes calldata input,
        bytes calldata output,
        bytes calldata proof,
        bytes32 containerId,
        uint256 index
    ) internal virtual {}

    /// @notice Inputs a node should feed the containers for this subscription and interval.
    ///         Nodes call it with eth_call; `timestamp` and `caller` are what the node passes.
    function getContainerInputs(uint32 subscriptionId, uint32 interval, uint32 timestamp, address caller)
        external
        view
        virtual
        returns (bytes memory)
    {}

    /// @notice Entry point for the coordinator; forwards to _receiveCompute.
    function rawReceiveCompute(
        uint32 subscriptionId,
        uint32 interval,
        uint16 redundancy,
        address node,
        bytes calldata input,
        bytes calldata output,
        bytes calldata proof,
        bytes32 containerId,
        uint256 index
    ) external {
        if (msg.sender != address(COORDINATOR)) revert NotCoordinator();
        _receiveCompute(subscriptionId, interval, redundancy, node, input, output, proof, containerId, index);
    }
}
