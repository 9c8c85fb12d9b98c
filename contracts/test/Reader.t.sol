// SPDX-License-Identifier: BSD-3-Clause-Clear
pragma solidity ^0.8.4;

import {Fixture} from "./lib/Fixture.sol";
import {Subscription} from "../src/Coordinator.sol";

contract ReaderTest is Fixture {
    function testCanReadSubscriptions() public {
        for (uint256 i = 0; i < 4; ++i) {
            _subscribe(uint32(i + 1), 60, 1, false);
        }
        subscriptionConsumer.cancelSubscription(4);
        Subscription[] memory subs = reader.readSubscriptionBatch(1, 6);
        assertEq(subs.length, 5);
        for (uint256 i = 0; i < 3; ++i) {
            assertEq(subs[i].frequency, i + 1);
            assertEq(subs[i].owner, address(subscriptionConsumer));
        }
        assertEq(subs[3].activeAt, type(uint32).max);
        assertEq(subs[4].owner, address(0));
    }

    function testBatchRangeEdges() public {
        assertEq(reader.readSubscriptionBatch(3, 3).length, 0);
        vm.expectRevert(abi.encodeWithSignature("Panic(uint256)", 0x11));
        reader.readSubscriptionBatch(4, 3);
    }

    function testCanReadRedundancyCounts() public {
        uint32 a = _subscribe(1, 0, 3, false);
        uint32 b = _subscribe(1, 0, 3, false);
        _deliver(ALICE, a, 1);
        _deliver(BOB, a, 1);
        _deliver(ALICE, b, 1);
        uint32[] memory ids = new uint32[](3);
        uint32[] memory intervals = new uint32[](4);
        ids[0] = a;
        ids[1] = b;
        ids[2] = 99;
        intervals[0] = 1;
        intervals[1] = 1;
        intervals[2] = 1;
        uint16[] memory counts = reader.readRedundancyCountBatch(ids, intervals);
        assertEq(counts.length, 3);
        assertEq(counts[0], 2);
        assertEq(counts[1], 1);
        assertEq(counts[2], 0);
    }

    function testCannotReadRedundancyCountWhenIntervalsShorter() public {
        uint32[] memory ids = new uint32[](2);
        uint32[] memory intervals = new uint32[](1);
        vm.expectRevert(abi.encodeWithSignature("Panic(uint256)", 0x32));
        reader.readRedundancyCountBatch(ids, intervals);
    }

    function testRegistryAddresses() public view {
        assertEq(registry.COORDINATOR(), address(coordinator));
        assertEq(registry.INBOX(), address(inbox));
        assertEq(registry.READER(), address(reader));
        assertEq(registry.FEE(), address(fee));
        assertEq(registry.WALLET_FACTORY(), address(walletFactory));
        assertEq(fee.FEE(), FEE_BP);
        assertEq(fee.FEE_RECIPIENT(), PROTOCOL);
    }
}
