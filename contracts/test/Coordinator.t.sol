// SPDX-License-Identifier: BSD-3-Clause-Clear
pragma solidity ^0.8.4;

import {Fixture} from "./lib/Fixture.sol";
import {Coordinator, Subscription} from "../src/Coordinator.sol";
import {InboxItem} from "../src/Inbox.sol";
import {Delivery, RevertingConsumer} from "../src/examples/Consumers.sol";
import {Allowlist} from "../src/pattern/Allowlist.sol";
import {BaseConsumer} from "../src/consumer/Base.sol";
import {TransientReentrancyGuard} from "../src/utility/TransientReentrancyGuard.sol";

/// @dev A consumer whose callback tries to deliver again from inside a delivery.
contract ReenteringConsumer is BaseConsumer {
    constructor(address registry) BaseConsumer(registry) {}

    function subscribe() external returns (uint32) {
        return COORDINATOR.createSubscription("container", 1, 0, 2, false, address(0), 0, address(0), address(0));
    }

    function _receiveCompute(uint32 id, uint32 interval, uint16, address, bytes calldata, bytes calldata, bytes calldata, bytes32, uint256)
        internal
        override
    {
        COORDINATOR.deliverCompute(id, interval, "", "", "", address(0));
    }
}

/// @dev Creates a subscription from its constructor (no code yet, but not an EOA).
contract ConstructorSubscriber is BaseConsumer {
    uint32 public subscriptionId;

    constructor(address registry) BaseConsumer(registry) {
        subscriptionId =
            COORDINATOR.createSubscription("container", 1, 0, 1, false, address(0), 0, address(0), address(0));
    }
}

contract CoordinatorTest is Fixture {
    // ---- ids and creation -----------------------------------------------------------------

    function testIdsStartAtOneAndAreNeverReused() public {
        assertEq(coordinator.id(), 1);
        for (uint32 i = 1; i <= 4; ++i) {
            assertEq(_subscribe(1, 60, 1, false), i);
        }
        subscriptionConsumer.cancelSubscription(3);
        subscriptionConsumer.cancelSubscription(4);
        assertEq(coordinator.id(), 5);
        assertEq(_subscribe(1, 60, 1, false), 5);
    }

    function testCreateSubscriptionStoresFieldsAndEmits() public {
        vm.expectEmit(true, false, false, true, address(coordinator));
        emit SubscriptionCreated(1);
        uint32 id = subscriptionConsumer.createSubscription(
            CONTAINER, 5, 60, 2, true, address(token), 7, address(0xBEEF), address(atomicVerifier)
        );
        Subscription memory sub = coordinator.getSubscription(id);
        assertEq(sub.owner, address(subscriptionConsumer));
        assertEq(sub.activeAt, now_ + 60);
        assertEq(sub.period, 60);
        assertEq(sub.frequency, 5);
        assertEq(sub.redundancy, 2);
        assertEq(sub.containerId, CONTAINER_ID);
        assertEq(sub.lazy, true);
        assertEq(sub.verifier, address(atomicVerifier));
        assertEq(sub.paymentAmount, 7);
        assertEq(sub.paymentToken, address(token));
        assertEq(sub.wallet, address(0xBEEF));
    }

    function testUnknownSubscriptionIsZero() public view {
        Subscription memory sub = coordinator.getSubscription(42);
        assertEq(sub.owner, address(0));
        assertEq(sub.activeAt, 0);
        assertEq(sub.containerId, bytes32(0));
    }

    function testCanCreateCallback() public {
        uint32 id = callbackConsumer.requestCompute(CONTAINER, INPUT, 1, address(0), 0, address(0), address(0));
        Subscription memory sub = coordinator.getSubscription(id);
        assertEq(sub.activeAt, now_);
        assertEq(sub.frequency, 1);
        assertEq(sub.period, 0);
        assertEq(sub.lazy, false);
        assertEq(callbackConsumer.getContainerInputs(id, 0, 0, address(0)), INPUT);
    }

    // Undeliverable subscriptions are rejected at creation (the reference accepts them).
    function testCannotCreateWithZeroFrequency() public {
        vm.expectRevert(Coordinator.InvalidSubscription.selector);
        _subscribe(0, 60, 1, false);
    }

    function testCannotCreateWithZeroRedundancy() public {
        vm.expectRevert(Coordinator.InvalidSubscription.selector);
        _subscribe(1, 60, 0, false);
    }

    function testCannotCreateFromAnAccountWithoutCode() public {
        vm.prank(USER, USER);
        vm.expectRevert(Coordinator.InvalidSubscription.selector);
        coordinator.createSubscription(CONTAINER, 1, 0, 1, false, address(0), 0, address(0), address(0));
    }

    function testContractCanCreateFromItsConstructor() public {
        ConstructorSubscriber subscriber = new ConstructorSubscriber(address(registry));
        assertEq(subscriber.subscriptionId(), 1);
        assertEq(coordinator.getSubscription(1).owner, address(subscriber));
    }

    function testActiveAtOverflowReverts() public {
        vm.warp(type(uint32).max - 10);
        vm.expectRevert(abi.encodeWithSignature("Panic(uint256)", 0x11));
        _subscribe(1, 60, 1, false);
    }

    // ---- callback delivery ------------------------------------------------------------------

    function testCanDeliverCallbackResponse() public {
        uint32 id = callbackConsumer.requestCompute(CONTAINER, INPUT, 1, address(0), 0, address(0), address(0));
        vm.expectEmit(true, true, false, true, address(coordinator));
        emit SubscriptionFulfilled(id, ALICE);
        _deliver(ALICE, id, 1);
        Delivery memory d = callbackConsumer.getDelivery(id, 1, 1);
        assertTrue(d.received, "not received");
        assertEq(d.node, ALICE);
        assertEq(d.input, INPUT);
        assertEq(d.output, OUTPUT);
        assertEq(d.proof, PROOF);
        assertEq(d.containerId, bytes32(0));
        assertEq(d.index, 0);
        assertEq(coordinator.redundancyCount(keccak256(abi.encode(id, uint32(1)))), 1);
        assertTrue(coordinator.nodeResponded(keccak256(abi.encode(id, uint32(1), ALICE))), "nodeResponded");
    }

    function testFuzzCannotDeliverCallbackIfIncorrectInterval(uint32 interval) public {
        vm.assume(interval != 1);
        uint32 id = callbackConsumer.requestCompute(CONTAINER, INPUT, 1, address(0), 0, address(0), address(0));
        vm.expectRevert(Coordinator.IntervalMismatch.selector);
        _deliver(ALICE, id, interval);
    }

    function testCanDeliverCallbackResponseOnceAcrossTwoNodes() public {
        uint32 id = callbackConsumer.requestCompute(CONTAINER, INPUT, 2, address(0), 0, address(0), address(0));
        _deliver(ALICE, id, 1);
        _deliver(BOB, id, 1);
        assertEq(callbackConsumer.getDelivery(id, 1, 1).node, ALICE);
        assertEq(callbackConsumer.getDelivery(id, 1, 2).node, BOB);
        vm.expectRevert(Coordinator.IntervalCompleted.selector);
        _deliver(CHARLIE, id, 1);
    }

    function testCannotDeliverCallbackResponseFromSameNodeTwice() public {
        uint32 id = callbackConsumer.requestCompute(CONTAINER, INPUT, 2, address(0), 0, address(0), address(0));
        _deliver(ALICE, id, 1);
        vm.expectRevert(Coordinator.NodeRespondedAlready.selector);
        _deliver(ALICE, id, 1);
    }

    function testCallbackDeliveryDoesNotStoreDataInInbox() public {
        uint32 id = callbackConsumer.requestCompute(CONTAINER, INPUT, 1, address(0), 0, address(0), address(0));
        _deliver(ALICE, id, 1);
        vm.expectRevert(abi.encodeWithSignature("Panic(uint256)", 0x32));
        inbox.read(CONTAINER_ID, ALICE, 0);
    }

    function testCannotReceiveResponseFromNonCoordinator() public {
        vm.expectRevert(BaseConsumer.NotCoordinator.selector);
        callbackConsumer.rawReceiveCompute(1, 1, 1, ALICE, "", "", "", bytes32(0), 0);
    }

    // ---- recurring subscriptions and intervals ------------------------------------------------

    function testCanReadContainerInputs() public {
        uint32 id = _subscribe(3, 60, 1, false);
        assertEq(
            subscriptionConsumer.getContainerInputs(id, 2, 1234, ALICE), abi.encode(id, uint32(2), uint32(1234), ALICE)
        );
        subscriptionConsumer.setInputs(id, INPUT);
        assertEq(subscriptionConsumer.getContainerInputs(id, 2, 1234, ALICE), INPUT);
    }

    function testCannotDeliverResponseForNonExistentSubscription() public {
        vm.expectRevert(Coordinator.SubscriptionNotFound.selector);
        _deliver(ALICE, 1, 1);
    }

    function testCannotDeliverResponseNonActiveSubscription() public {
        uint32 id = _subscribe(2, 60, 1, false);
        _skip(59);
        vm.expectRevert(Coordinator.SubscriptionNotActive.selector);
        _deliver(ALICE, id, 1);
        _skip(1);
        _deliver(ALICE, id, 1);
    }

    function testIntervalBoundariesAreExclusive() public {
        uint32 id = _subscribe(3, 60, 1, false);
        // Last second of interval 1 (activeAt = now + 60).
        _skip(60 + 59);
        _deliver(ALICE, id, 1);
        // First second of interval 2: interval 1 is gone.
        _skip(1);
        vm.expectRevert(Coordinator.IntervalMismatch.selector);
        _deliver(BOB, id, 1);
        _deliver(BOB, id, 2);
        // Early: interval 3 is not open yet.
        vm.expectRevert(Coordinator.IntervalMismatch.selector);
        _deliver(CHARLIE, id, 3);
    }

    function testCannotDeliverResponseForCompletedSubscription() public {
        uint32 id = _subscribe(2, 60, 1, false);
        _skip(60);
        _deliver(ALICE, id, 1);
        _skip(60);
        _deliver(ALICE, id, 2);
        _skip(60);
        vm.expectRevert(Coordinator.SubscriptionCompleted.selector);
        _deliver(ALICE, id, 3);
        // The old interval number gives IntervalMismatch, not SubscriptionCompleted.
        vm.expectRevert(Coordinator.IntervalMismatch.selector);
        _deliver(BOB, id, 2);
    }

    function testCannotDeliverMaxRedundancyResponse() public {
        uint32 id = _subscribe(2, 60, 2, false);
        _skip(60);
        _deliver(ALICE, id, 1);
        _deliver(BOB, id, 1);
        vm.expectRevert(Coordinator.IntervalCompleted.selector);
        _deliver(CHARLIE, id, 1);
        assertEq(subscriptionConsumer.getDelivery(id, 1, 2).node, BOB);
        // The next interval starts with a fresh count.
        _skip(60);
        _deliver(CHARLIE, id, 2);
        assertEq(subscriptionConsumer.getDelivery(id, 2, 1).node, CHARLIE);
    }

    function testPeriodZeroNeverEndsByTime() public {
        uint32 id = _subscribe(5, 0, 1, false);
        _skip(365 days);
        assertEq(coordinator.getSubscriptionInterval(uint32(now_) - 365 days, 0), 1);
        _deliver(ALICE, id, 1);
        vm.expectRevert(Coordinator.IntervalCompleted.selector);
        _deliver(BOB, id, 1);
    }

    /// @dev Interval k opens exactly at activeAt + (k-1)*period; one second earlier it is k-1.
    function testFuzzSubscriptionIntervalsAreCorrect(uint32 activeAt, uint32 period, uint32 k) public {
        period = uint32(bound(period, 1, 365 days));
        activeAt = uint32(bound(activeAt, 1, type(uint32).max / 2));
        uint256 maxK = (uint256(type(uint32).max) - activeAt) / period;
        vm.assume(maxK >= 2);
        k = uint32(bound(k, 2, maxK > 1000 ? 1000 : maxK));
        uint256 start = uint256(activeAt) + uint256(k - 1) * period;
        vm.warp(start);
        assertEq(coordinator.getSubscriptionInterval(activeAt, period), k);
        vm.warp(start - 1);
        assertEq(coordinator.getSubscriptionInterval(activeAt, period), k - 1);
        vm.warp(start + period - 1);
        assertEq(coordinator.getSubscriptionInterval(activeAt, period), k);
        assertEq(coordinator.getSubscriptionInterval(activeAt, 0), 1);
    }

    /// @dev The interval accepted on chain always equals the formula at that block.
    function testFuzzDeliveryAcceptsOnlyTheFormulaInterval(uint32 period, uint32 elapsed) public {
        period = uint32(bound(period, 1, 1 days));
        elapsed = uint32(bound(elapsed, 0, 100 * uint256(period)));
        uint32 id = _subscribe(type(uint32).max, period, 1, false);
        uint32 activeAt = uint32(now_) + period;
        vm.warp(uint256(activeAt) + elapsed);
        uint32 expected = elapsed / period + 1;
        vm.expectRevert(Coordinator.IntervalMismatch.selector);
        _deliver(ALICE, id, expected + 1);
        _deliver(ALICE, id, expected);
    }

    // ---- cancellation -------------------------------------------------------------------------

    function testCanCancelSubscription() public {
        uint32 id = _subscribe(3, 60, 1, false);
        vm.expectEmit(true, false, false, true, address(coordinator));
        emit SubscriptionCancelled(id);
        subscriptionConsumer.cancelSubscription(id);
        assertEq(coordinator.getSubscription(id).activeAt, type(uint32).max);
        _skip(60);
        vm.expectRevert(Coordinator.SubscriptionNotActive.selector);
        _deliver(ALICE, id, 1);
    }

    function testCanCancelCancelledAndFulfilledSubscription() public {
        uint32 id = _subscribe(1, 0, 1, false);
        _deliver(ALICE, id, 1);
        subscriptionConsumer.cancelSubscription(id);
        vm.expectEmit(true, false, false, true, address(coordinator));
        emit SubscriptionCancelled(id);
        subscriptionConsumer.cancelSubscription(id);
    }

    function testCannotCancelNonExistentOrUnownedSubscription() public {
        vm.expectRevert(Coordinator.NotSubscriptionOwner.selector);
        subscriptionConsumer.cancelSubscription(1);
        uint32 id = _subscribe(1, 0, 1, false);
        vm.prank(USER);
        vm.expectRevert(Coordinator.NotSubscriptionOwner.selector);
        coordinator.cancelSubscription(id);
    }

    // ---- lazy delivery ------------------------------------------------------------------------

    function testLazySubscriptionDeliveryStoresOutputsInInbox() public {
        uint32 id = _subscribe(1, 0, 1, true);
        _deliver(ALICE, id, 1);
        Delivery memory d = subscriptionConsumer.getDelivery(id, 1, 1);
        assertEq(d.input, "");
        assertEq(d.output, "");
        assertEq(d.proof, "");
        assertEq(d.containerId, CONTAINER_ID);
        assertEq(d.index, 0);
        InboxItem memory item = inbox.read(CONTAINER_ID, ALICE, 0);
        assertEq(item.timestamp, now_);
        assertEq(item.subscriptionId, id);
        assertEq(item.interval, 1);
        assertEq(item.input, INPUT);
        assertEq(item.output, OUTPUT);
        assertEq(item.proof, PROOF);
    }

    function testEagerDeliveryDoesNotStoreOutputsInInbox() public {
        uint32 id = _subscribe(1, 0, 1, false);
        _deliver(ALICE, id, 1);
        vm.expectRevert(abi.encodeWithSignature("Panic(uint256)", 0x32));
        inbox.read(CONTAINER_ID, ALICE, 0);
    }

    function testCanDeliverLazySubscriptionsMoreThanOnce() public {
        uint32 id = _subscribe(3, 60, 1, true);
        for (uint32 k = 1; k <= 3; ++k) {
            _skip(60);
            _deliver(ALICE, id, k);
            assertEq(subscriptionConsumer.getDelivery(id, k, 1).index, k - 1);
            assertEq(inbox.read(CONTAINER_ID, ALICE, k - 1).interval, k);
        }
    }

    // ---- allowlist ----------------------------------------------------------------------------

    function testAllowlistAcceptsListedNodeOnly() public {
        assertTrue(allowlistConsumer.isAllowedNode(ALICE), "ALICE allowed");
        assertEq(allowlistConsumer.isAllowedNode(BOB), false);
        uint32 id = allowlistConsumer.createSubscription(
            CONTAINER, 1, 0, 2, true, address(0), 0, address(0), address(0)
        );
        vm.expectRevert(Allowlist.NodeNotAllowed.selector);
        _deliver(BOB, id, 1);
        // The failed delivery left nothing behind.
        assertEq(coordinator.redundancyCount(keccak256(abi.encode(id, uint32(1)))), 0);
        vm.expectRevert(abi.encodeWithSignature("Panic(uint256)", 0x32));
        inbox.read(CONTAINER_ID, BOB, 0);
        _deliver(ALICE, id, 1);
    }

    function testFuzzAllowlistLastWriteWins(bool first, bool second) public {
        address[] memory nodes = new address[](2);
        bool[] memory statuses = new bool[](2);
        nodes[0] = BOB;
        nodes[1] = BOB;
        statuses[0] = first;
        statuses[1] = second;
        allowlistConsumer.updateAllowlist(nodes, statuses);
        assertEq(allowlistConsumer.isAllowedNode(BOB), second);
    }

    // ---- failure propagation and reentrancy -----------------------------------------------------

    function testRevertingConsumerRevertsDelivery() public {
        RevertingConsumer consumer =
            RevertingConsumer(_deploy("Consumers.sol:RevertingConsumer", abi.encode(registry)));
        uint32 id = consumer.createSubscription(CONTAINER, 1, 0, 1);
        vm.expectRevert(RevertingConsumer.AlwaysReverts.selector);
        _deliver(ALICE, id, 1);
        assertEq(coordinator.nodeResponded(keccak256(abi.encode(id, uint32(1), ALICE))), false);
    }

    function testFuzzCallbackGetsTheDeliveredBytes(bytes calldata input, bytes calldata output, bytes calldata proof)
        public
    {
        uint32 id = _subscribe(1, 0, 1, false);
        vm.prank(BOB);
        coordinator.deliverCompute(id, 1, input, output, proof, address(0));
        Delivery memory d = subscriptionConsumer.getDelivery(id, 1, 1);
        assertTrue(d.received, "delivery recorded");
        assertEq(d.node, BOB);
        assertEq(d.input, input);
        assertEq(d.output, output);
        assertEq(d.proof, proof);
        assertEq(d.containerId, bytes32(0));
        assertEq(d.index, 0);
    }

    function testLazyCallbackGetsEmptyBytesAndTheInboxPosition() public {
        uint32 id = _subscribe(1, 0, 1, true);
        _deliver(ALICE, id, 1);
        Delivery memory d = subscriptionConsumer.getDelivery(id, 1, 1);
        assertEq(d.input.length + d.output.length + d.proof.length, 0);
        assertEq(d.containerId, CONTAINER_ID);
        assertEq(inbox.read(d.containerId, ALICE, d.index).output, OUTPUT);
    }

    function testDeliveryToAnOwnerWithoutCodeReverts() public {
        uint32 id = _subscribe(1, 0, 1, false);
        // The owner loses its code (as a self-destructed consumer would).
        vm.etch(address(subscriptionConsumer), "");
        vm.expectRevert(bytes(""));
        _deliver(ALICE, id, 1);
    }

    function testReentrancyLockLeavesNoStorage() public {
        uint32 first = callbackConsumer.requestCompute(CONTAINER, INPUT, 1, address(0), 0, address(0), address(0));
        uint32 second = callbackConsumer.requestCompute(CONTAINER, INPUT, 1, address(0), 0, address(0), address(0));
        // Two deliveries in one transaction: the lock taken by the first is released again.
        _deliver(ALICE, first, 1);
        _deliver(ALICE, second, 1);
        assertTrue(coordinator.nodeResponded(keccak256(abi.encode(second, uint32(1), ALICE))), "second delivered");
        bytes32 flag = vm.load(address(coordinator), bytes32(uint256(0x929eee149b4bd21268)));
        assertEq(flag, bytes32(0), "lock kept in transient storage only");
    }

    function testCannotReenterDeliverCompute() public {
        ReenteringConsumer consumer = new ReenteringConsumer(address(registry));
        uint32 id = consumer.subscribe();
        vm.expectRevert(TransientReentrancyGuard.Reentrancy.selector);
        _deliver(ALICE, id, 1);
    }
}
