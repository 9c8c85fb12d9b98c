// SPDX-License-Identifier: BSD-3-Clause-Clear
pragma solidity ^0.8.4;

import {Fixture} from "./lib/Fixture.sol";
import {InboxItem} from "../src/Inbox.sol";
import {Coordinated} from "../src/utility/Coordinated.sol";

contract InboxTest is Fixture {
    function testFuzzNodesCanStoreDataToInbox(bytes32 containerId, bytes calldata input, bytes calldata output, bytes calldata proof)
        public
    {
        vm.expectEmit(true, true, false, true, address(inbox));
        emit NewInboxItem(containerId, ALICE, 0);
        vm.prank(ALICE);
        assertEq(inbox.write(containerId, input, output, proof), 0);
        InboxItem memory item = inbox.read(containerId, ALICE, 0);
        assertEq(item.timestamp, now_);
        assertEq(item.subscriptionId, 0);
        assertEq(item.interval, 0);
        assertEq(item.input, input);
        assertEq(item.output, output);
        assertEq(item.proof, proof);
        (uint32 timestamp,,, bytes memory i, bytes memory o, bytes memory p) = inbox.items(containerId, ALICE, 0);
        assertEq(timestamp, now_);
        assertEq(i, input);
        assertEq(o, output);
        assertEq(p, proof);
    }

    function testNodesCanStoreDataMultipleTimesSamePathInOrder() public {
        for (uint256 k = 0; k < 3; ++k) {
            _skip(10);
            vm.prank(ALICE);
            assertEq(inbox.write(CONTAINER_ID, INPUT, abi.encode(k), PROOF), k);
        }
        for (uint256 k = 0; k < 3; ++k) {
            InboxItem memory item = inbox.read(CONTAINER_ID, ALICE, k);
            assertEq(item.output, abi.encode(k));
            assertEq(item.timestamp, now_ - 20 + 10 * k);
        }
        vm.expectRevert(abi.encodeWithSignature("Panic(uint256)", 0x32));
        inbox.read(CONTAINER_ID, ALICE, 3);
    }

    function testNodesCanDeliverDataViaCoordinatorAndDirectSamePath() public {
        vm.prank(ALICE);
        inbox.write(CONTAINER_ID, INPUT, OUTPUT, PROOF);
        uint32 id = _subscribe(1, 0, 1, true);
        _deliver(ALICE, id, 1);
        assertEq(inbox.read(CONTAINER_ID, ALICE, 0).subscriptionId, 0);
        assertEq(inbox.read(CONTAINER_ID, ALICE, 1).subscriptionId, id);
        assertEq(subscriptionConsumer.getDelivery(id, 1, 1).index, 1);
    }

    function testMultipleNodesHaveSeparateLists() public {
        vm.prank(ALICE);
        inbox.write(CONTAINER_ID, INPUT, OUTPUT, PROOF);
        vm.prank(BOB);
        assertEq(inbox.write(CONTAINER_ID, INPUT, "bob", PROOF), 0);
        assertEq(inbox.read(CONTAINER_ID, BOB, 0).output, "bob");
    }

    function testFuzzOnlyCoordinatorCanWriteViaCoordinator(address caller) public {
        vm.assume(caller != address(coordinator));
        vm.prank(caller);
        vm.expectRevert(Coordinated.NotCoordinator.selector);
        inbox.writeViaCoordinator(CONTAINER_ID, ALICE, 1, 1, INPUT, OUTPUT, PROOF);
        vm.prank(address(coordinator));
        assertEq(inbox.writeViaCoordinator(CONTAINER_ID, ALICE, 1, 1, INPUT, OUTPUT, PROOF), 0);
    }
}
