// SPDX-License-Identifier: BSD-3-Clause-Clear
pragma solidity ^0.8.24;

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
/// @dev Storage differs from the reference (a public array of `InboxItem`), the getters do not:
///      an item is one header word (timestamp, subscription id, interval and the three byte
///      lengths) followed by input, output and proof packed back to back. Three 32-byte fields
///      take 4 fresh slots instead of 7, which saves 66,300 gas per write.
contract Inbox is Coordinated {
    /// @dev containerId => node => number of items written.
    mapping(bytes32 => mapping(address => uint256)) private counts;

    /// @notice A new item was stored at `items(containerId, node, index)`.
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
        return _read(containerId, node, index);
    }

    /// @notice The item at `index` of `containerId` and `node`, field by field, as the
    ///         reference's public array getter returns it; an index past the end reverts with
    ///         Panic(0x32).
    function items(bytes32 containerId, address node, uint256 index)
        external
        view
        returns (
            uint32 timestamp,
            uint32 subscriptionId,
            uint32 interval,
            bytes memory input,
            bytes memory output,
            bytes memory proof
        )
    {
        InboxItem memory item = _read(containerId, node, index);
        return (item.timestamp, item.subscriptionId, item.interval, item.input, item.output, item.proof);
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
        index = counts[containerId][node];
        unchecked {
            counts[containerId][node] = index + 1;
        }
        // Calldata is far below 2**40 bytes, so each length fits its 40-bit header field.
        uint256 header = uint256(uint32(block.timestamp)) | (uint256(subscriptionId) << 32) | (uint256(interval) << 64)
            | (input.length << 96) | (output.length << 136) | (proof.length << 176);
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, containerId)
            mstore(add(m, 0x20), shr(96, shl(96, node)))
            mstore(add(m, 0x40), index)
            let base := keccak256(m, 0x60)
            sstore(base, header)
            // Pack the three fields in scratch memory past the free pointer, zero the rest of the
            // last word, and store it word by word after the header.
            calldatacopy(m, input.offset, input.length)
            let end := add(m, input.length)
            calldatacopy(end, output.offset, output.length)
            end := add(end, output.length)
            calldatacopy(end, proof.offset, proof.length)
            end := add(end, proof.length)
            mstore(end, 0)
            let slot := add(base, 1)
            for { let p := m } lt(p, end) { p := add(p, 0x20) } {
                sstore(slot, mload(p))
                slot := add(slot, 1)
            }
        }
        emit NewInboxItem(containerId, node, index);
    }

    function _read(bytes32 containerId, address node, uint256 index) private view returns (InboxItem memory item) {
        if (index >= counts[containerId][node]) {
            assembly ("memory-safe") {
                mstore(0x00, 0x4e487b71) // Panic(uint256)
                mstore(0x20, 0x32) // array index out of bounds, as the reference's array
                revert(0x1c, 0x24)
            }
        }
        uint256 base = uint256(keccak256(abi.encode(containerId, node, index)));
        uint256 header;
        assembly ("memory-safe") {
            header := sload(base)
        }
        item.timestamp = uint32(header);
        item.subscriptionId = uint32(header >> 32);
        item.interval = uint32(header >> 64);
        uint256 inputLength = uint40(header >> 96);
        uint256 outputLength = uint40(header >> 136);
        uint256 proofLength = uint40(header >> 176);
        bytes memory input = new bytes(inputLength);
        bytes memory output = new bytes(outputLength);
        bytes memory proof = new bytes(proofLength);
        assembly ("memory-safe") {
            // Load the packed words into scratch memory past the free pointer, then cut them.
            let blob := mload(0x40)
            let total := add(add(inputLength, outputLength), proofLength)
            let slot := add(base, 1)
            for { let p := blob } lt(p, add(blob, total)) { p := add(p, 0x20) } {
                mstore(p, sload(slot))
                slot := add(slot, 1)
            }
            mcopy(add(input, 0x20), blob, inputLength)
            mcopy(add(output, 0x20), add(blob, inputLength), outputLength)
            mcopy(add(proof, 0x20), add(blob, add(inputLength, outputLength)), proofLength)
        }
        item.input = input;
        item.output = output;
        item.proof = proof;
    }
}
