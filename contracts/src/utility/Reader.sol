// SPDX-License-Identifier: BSD-3-Clause-Clear
pragma solidity ^0.8.4;

import {Registry} from "../Registry.sol";
import {Coordinator, Subscription} from "../Coordinator.sol";

/// @title Reader
/// @notice Batch views for nodes that sync the coordinator's state.
contract Reader {
    Coordinator private immutable COORDINATOR;

    constructor(Registry registry) {
        COORDINATOR = Coordinator(registry.COORDINATOR());
    }

    /// @notice Subscriptions with ids in [startId, endId); unknown ids come back zeroed.
    /// @dev endId < startId reverts with Panic(0x11).
    function readSubscriptionBatch(uint32 startId, uint32 endId) external view returns (Subscription[] memory subs) {
        uint32 count = endId - startId;
        subs = new Subscription[](count);
        for (uint32 i = 0; i < count;) {
            subs[i] = COORDINATOR.getSubscription(startId + i);
            unchecked {
                ++i;
            }
        }
    }

    /// @notice Redundancy count of each (ids[i], intervals[i]) pair.
    /// @dev `intervals` shorter than `ids` reverts with Panic(0x32); extra intervals are ignored.
    function readRedundancyCountBatch(uint32[] calldata ids, uint32[] calldata intervals)
        external
        view
        returns (uint16[] memory counts)
    {
        uint256 n = ids.length;
        counts = new uint16[](n);
        for (uint256 i = 0; i < n;) {
            counts[i] = COORDINATOR.redundancyCount(keccak256(abi.encode(ids[i], intervals[i])));
            unchecked {
                ++i;
            }
        }
    }
}
