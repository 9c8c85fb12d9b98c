// SPDX-License-Identifier: BSD-3-Clause-Clear
pragma solidity ^0.8.4;

import {Registry} from "./Registry.sol";
import {Coordinated} from "./utility/Coordinated.sol";

/// @notice One stored compute result. `subscriptionId` and `interval` are 0 for items written
///         directly by a node (not through the coordinator), so readers must check them.
struct InboxItem {
    uint32 timestamp;
    uint32 subscriptionId;
    uint32 interval;
    bytes input;
    bytes output;
    bytes proof;
}

/// @title Inbox
/// @notice Append-only store of compute results per container id and delivering node. Lazy
///         subscriptions are delivered here by the coordinator; anyone may also write.
contract Inbox is Coordinated {
    /// @notice containerId => node => items in write order.
    mapping(bytes32 => mapping(address => InboxItem[])) public items;

    /// @notice A new item was stored at `items[containerId][node][index]`.
    event NewInboxItem(bytes32 indexed containerId, address indexed node, uint256 index);

    constructor(Registry registry) Coordinated(registry) {}

    /// @notice Stores a result under the caller's address, with subscription id and interval 0.
    function write(bytes32 containerId, bytes calldata input, bytes calldata output, bytes calldata proof)
        external
        returns (uint256)
    {
        return _write(containerId, msg.sender, 0, 0, input, output, proof);
    }

    /// @notice Stores a lazy subscription's result for `node`; coordinator only.
    function writeViaCoordinator(
        bytes32 containerId,
        address node,
        uint32 subscriptionId,
        uint32 interval,
        bytes calldata input,
        bytes calldata output,
        bytes calldata proof
    ) external onlyCoordinator returns (uint256) {
        return _write(containerId, node, subscriptionId, interval, input, output, proof);
    }

    /// @notice Returns one item; an index past the end reverts with Panic(0x32).
    function read(bytes32 containerId, address node, uint256 index) external view returns (InboxItem memory) {
        return items[containerId][node][index];
    }

    function _write(
        bytes32 containerId,
        address node,
        uint32 subscriptionId,
        uint32 interval,
        bytes calldata input,
        bytes calldata output,
        bytes calldata proof
    ) private returns (uint256 index) {
        InboxItem[] storage list = items[containerId][node];
        index = list.length;
        InboxItem storage item = list.push();
        item.timestamp = uint32(block.timestamp);
        item.subscriptionId = subscriptionId;
        item.interval = interval;
        if (input.length != 0) item.input = input;
        if (output.length != 0) item.output = output;
        if (proof.length != 0) item.proof = proof;
        emit NewInboxItem(containerId, node, index);
    }
}
