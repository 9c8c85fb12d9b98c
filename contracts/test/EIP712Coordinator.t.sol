// SPDX-License-Identifier: BSD-3-Clause-Clear
pragma solidity ^0.8.4;

import {Fixture} from "./lib/Fixture.sol";
import {Coordinator, Subscription} from "../src/Coordinator.sol";
import {EIP712Coordinator} from "../src/EIP712Coordinator.sol";
import {Allowlist} from "../src/pattern/Allowlist.sol";

/// @dev Stands in for the subscribing contract (0x1111…1111) of the reference EIP-712 vector.
contract VectorSigner {
    function getSigner() external pure returns (address) {
        return 0xe05fcC23807536bEe418f142D19fa0d21BB0cfF7;
    }
}

contract EIP712CoordinatorTest is Fixture {
    function _sub(uint32 frequency, uint32 period, uint16 redundancy, bool lazy) internal view returns (Subscription memory sub) {
        sub.owner = address(delegatedConsumer);
        sub.activeAt = uint32(now_);
        sub.period = period;
        sub.frequency = frequency;
        sub.redundancy = redundancy;
        sub.containerId = CONTAINER_ID;
        sub.lazy = lazy;
    }

    function _sign(uint256 key, uint32 nonce, uint32 expiry, Subscription memory sub)
        internal
        view
        returns (uint8 v, bytes32 r, bytes32 s)
    {
        return vm.sign(key, _digest(address(coordinator), nonce, expiry, sub));
    }

    function _create(uint256 key, uint32 nonce, uint32 expiry, Subscription memory sub) internal returns (uint32) {
        (uint8 v, bytes32 r, bytes32 s) = _sign(key, nonce, expiry, sub);
        return coordinator.createSubscriptionDelegatee(nonce, expiry, sub, v, r, s);
    }

    // ---- EIP-712 vector, computed independently with cast and the SDK's own signing helper -------

    function testVectorEIP712() public {
        address verifying = 0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512;
        address owner = 0x1111111111111111111111111111111111111111;
        vm.chainId(31337);
        Subscription memory sub = Subscription({
            owner: owner,
            activeAt: 1_700_000_000,
            period: 60,
            frequency: 10,
            redundancy: 2,
            containerId: CONTAINER_ID,
            lazy: false,
            verifier: payable(address(0)),
            paymentAmount: 0,
            paymentToken: address(0),
            wallet: payable(address(0))
        });
        assertEq(keccak256(abi.encode(CONTAINER)), CONTAINER_ID, "containerId");
        assertEq(_subHash(sub), 0x2f6ba4ef977e5e1d621f5d18bbf579509c3d5a10accbd79e96499cd721d85cc1, "subHash");
        assertEq(
            keccak256(abi.encode(DELEGATE_TYPEHASH, uint32(0), uint32(1_700_003_600), _subHash(sub))),
            0x6b2cf7674a9d2fe5cc46f4eae5fe075debeefc1bd806cc33b092dfd064651b19,
            "structHash"
        );
        assertEq(_separator(verifying), 0x0da40050d747332d4028233d5e6cc011e618dc2dd0e9d30b9886f503a7a8d8cc, "separator");
        bytes32 digest = _digest(verifying, 0, 1_700_003_600, sub);
        assertEq(digest, 0x8eb61f229e048eed4779eb21a04b1a42752837d17e58786f240a4264ecfffb13, "digest");
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(DELEGATEE_KEY, digest);
        assertEq(vm.addr(DELEGATEE_KEY), 0xe05fcC23807536bEe418f142D19fa0d21BB0cfF7, "signer");
        assertEq(r, 0x2fe9a21eea3ce38ae4e7f88114f9d8814ac175eb8668074deb8426a09d9f6c39, "r");
        assertEq(s, 0x118a64f071c95c5f7ca2a3e2f44a0217ec3afa5cb25b0193e8d0a27930766ec2, "s");
        assertEq(v, 28, "v");

        // Our coordinator's code placed at the vector's address accepts exactly that signature.
        vm.etch(verifying, address(coordinator).code);
        vm.store(verifying, bytes32(0), bytes32(uint256(1))); // id = 1 (constructor did not run there)
        vm.etch(owner, address(new VectorSigner()).code);
        EIP712Coordinator atVector = EIP712Coordinator(verifying);
        (bytes1 fields, string memory name, string memory version, uint256 chainId, address contractAddress, bytes32 salt, uint256[] memory extensions) =
            atVector.eip712Domain();
        assertEq(fields, bytes1(0x0f));
        assertEq(name, "InfernetCoordinator");
        assertEq(version, "1");
        assertEq(chainId, 31337);
        assertEq(contractAddress, verifying);
        assertEq(salt, bytes32(0));
        assertEq(extensions.length, 0);

        vm.warp(1_700_000_000);
        assertEq(atVector.createSubscriptionDelegatee(0, 1_700_003_600, sub, v, r, s), 1);
        bytes32 key = keccak256(abi.encode(owner, uint32(0)));
        assertEq(key, 0xf043c50fe795c69f30b8ff78b84032dc53a9d87ca283ae10a1dacfbb648e83ef, "delegate key");
        assertEq(atVector.delegateCreatedIds(key), 1);
        assertEq(_subHash(atVector.getSubscription(1)), _subHash(sub), "stored verbatim");
    }

    // ---- creation --------------------------------------------------------------------------------

    function testCanCreateNewSubscriptionViaEIP712() public {
        Subscription memory sub = _sub(3, 60, 1, false);
        sub.activeAt = uint32(now_ + 1000); // stored as signed, not derived from the block time
        vm.expectEmit(true, false, false, true, address(coordinator));
        emit SubscriptionCreated(1);
        uint32 id = _create(DELEGATEE_KEY, 0, uint32(now_ + 1), sub);
        assertEq(id, 1);
        assertEq(_subHash(coordinator.getSubscription(id)), _subHash(sub));
        assertEq(coordinator.maxSubscriberNonce(address(delegatedConsumer)), 0);
        assertEq(coordinator.delegateCreatedIds(keccak256(abi.encode(address(delegatedConsumer), uint32(0)))), 1);
    }

    function testCannotCreateDelegatedSubscriptionWhereSignatureExpired() public {
        Subscription memory sub = _sub(1, 0, 1, false);
        (uint8 v, bytes32 r, bytes32 s) = _sign(DELEGATEE_KEY, 0, uint32(now_), sub);
        vm.expectRevert(EIP712Coordinator.SignatureExpired.selector);
        coordinator.createSubscriptionDelegatee(0, uint32(now_), sub, v, r, s);
    }

    function testFuzzCannotCreateDelegatedSubscriptionWhereSignatureMismatch(uint256 key) public {
        key = bound(key, 1, 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140);
        vm.assume(key != DELEGATEE_KEY);
        Subscription memory sub = _sub(1, 0, 1, false);
        (uint8 v, bytes32 r, bytes32 s) = _sign(key, 0, uint32(now_ + 1), sub);
        vm.expectRevert(EIP712Coordinator.SignerMismatch.selector);
        coordinator.createSubscriptionDelegatee(0, uint32(now_ + 1), sub, v, r, s);
    }

    function testCannotCreateWithMalformedSignature() public {
        Subscription memory sub = _sub(1, 0, 1, false);
        vm.expectRevert(abi.encodeWithSignature("InvalidSignature()"));
        coordinator.createSubscriptionDelegatee(0, uint32(now_ + 1), sub, 0, bytes32(0), bytes32(0));
    }

    function testCannotCreateDelegatedSubscriptionWithZeroRedundancy() public {
        vm.expectRevert(Coordinator.InvalidSubscription.selector);
        _create(DELEGATEE_KEY, 0, uint32(now_ + 1), _sub(1, 0, 0, false));
    }

    function testSignerRotation() public {
        Subscription memory sub = _sub(1, 0, 1, false);
        uint32 id = _create(DELEGATEE_KEY, 0, uint32(now_ + 100), sub);
        delegatedConsumer.updateSigner(vm.addr(BACKUP_DELEGATEE_KEY));
        // Old signer: its unused signature is now refused...
        (uint8 v, bytes32 r, bytes32 s) = _sign(DELEGATEE_KEY, 1, uint32(now_ + 100), sub);
        vm.expectRevert(EIP712Coordinator.SignerMismatch.selector);
        coordinator.createSubscriptionDelegatee(1, uint32(now_ + 100), sub, v, r, s);
        // ...but what it already created stays reachable, and the new signer works.
        assertEq(coordinator.createSubscriptionDelegatee(0, 0, sub, 0, bytes32(0), bytes32(0)), id);
        assertEq(_create(BACKUP_DELEGATEE_KEY, 1, uint32(now_ + 100), sub), id + 1);
    }

    function testNonceReuseReturnsTheFirstSubscription() public {
        uint32 id = _create(DELEGATEE_KEY, 7, uint32(now_ + 100), _sub(1, 0, 1, false));
        assertEq(_create(DELEGATEE_KEY, 7, uint32(now_ + 100), _sub(5, 10, 2, true)), id);
        assertEq(coordinator.getSubscription(id).frequency, 1);
        assertEq(coordinator.id(), id + 1);
    }

    function testCanCreateDelegatedSubscriptionWithUnorderedNonces() public {
        _create(DELEGATEE_KEY, 10, uint32(now_ + 100), _sub(1, 0, 1, false));
        assertEq(coordinator.maxSubscriberNonce(address(delegatedConsumer)), 10);
        _create(DELEGATEE_KEY, 3, uint32(now_ + 100), _sub(1, 0, 1, false));
        assertEq(coordinator.maxSubscriberNonce(address(delegatedConsumer)), 10);
        _create(DELEGATEE_KEY, 11, uint32(now_ + 100), _sub(1, 0, 1, false));
        assertEq(coordinator.maxSubscriberNonce(address(delegatedConsumer)), 11);
        assertEq(coordinator.id(), 4);
    }

    function testExistingSubscriptionIgnoresExpiryAndSignature() public {
        Subscription memory sub = _sub(1, 0, 1, false);
        uint32 id = _create(DELEGATEE_KEY, 0, uint32(now_ + 1), sub);
        _skip(1 days);
        assertEq(coordinator.createSubscriptionDelegatee(0, 0, sub, 0, bytes32(0), bytes32(0)), id);
    }

    function testCanCancelSubscriptionCreatedViaDelegate() public {
        uint32 id = _create(DELEGATEE_KEY, 0, uint32(now_ + 1), _sub(3, 60, 1, false));
        delegatedConsumer.cancelSubscription(id);
        assertEq(coordinator.getSubscription(id).activeAt, type(uint32).max);
    }

    // ---- create and deliver ----------------------------------------------------------------------

    function _deliverDelegated(address node, uint32 nonce, Subscription memory sub, uint32 interval) internal {
        (uint8 v, bytes32 r, bytes32 s) = _sign(DELEGATEE_KEY, nonce, uint32(now_ + 100), sub);
        vm.prank(node);
        coordinator.deliverComputeDelegatee(
            nonce, uint32(now_ + 100), sub, v, r, s, interval, INPUT, OUTPUT, PROOF, address(0)
        );
    }

    function testCanAtomicCreateSubscriptionAndDeliverOutput() public {
        Subscription memory sub = _sub(1, 0, 2, false);
        _deliverDelegated(ALICE, 0, sub, 1);
        assertEq(coordinator.id(), 2);
        assertEq(delegatedConsumer.getDelivery(1, 1, 1).output, OUTPUT);
        // A second node finds the subscription and only delivers.
        _deliverDelegated(BOB, 0, sub, 1);
        assertEq(coordinator.id(), 2);
        assertEq(delegatedConsumer.getDelivery(1, 1, 2).node, BOB);
    }

    function testCanAtomicCreateLazySubscriptionAndDeliverOutput() public {
        _deliverDelegated(ALICE, 0, _sub(1, 0, 1, true), 1);
        assertEq(delegatedConsumer.getDelivery(1, 1, 1).containerId, CONTAINER_ID);
        assertEq(inbox.read(CONTAINER_ID, ALICE, 0).output, OUTPUT);
    }

    function testCannotAtomicDeliverOutputForCompletedSubscription() public {
        Subscription memory sub = _sub(1, 0, 1, false);
        _deliverDelegated(ALICE, 0, sub, 1);
        vm.expectRevert(Coordinator.IntervalCompleted.selector);
        _deliverDelegated(BOB, 0, sub, 1);
        vm.expectRevert(Coordinator.IntervalCompleted.selector);
        _deliver(BOB, 1, 1);
    }

    function testCannotCreateNewDelegatedSubscriptionAtomicallyAsUnallowedNode() public {
        // Allowlist consumer signed by the same delegatee is not a Delegator: use a fresh one.
        Subscription memory sub = _sub(1, 0, 1, false);
        sub.owner = address(allowlistConsumer);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(DELEGATEE_KEY, _digest(address(coordinator), 0, uint32(now_ + 1), sub));
        vm.prank(BOB);
        vm.expectRevert(); // getSigner() does not exist on the allowlist consumer
        coordinator.deliverComputeDelegatee(0, uint32(now_ + 1), sub, v, r, s, 1, INPUT, OUTPUT, PROOF, address(0));
        assertEq(coordinator.id(), 1);
    }

    function testDelegatedDeliveryRollsBackCreationWhenDeliveryFails() public {
        Subscription memory sub = _sub(1, 0, 1, false);
        (uint8 v, bytes32 r, bytes32 s) = _sign(DELEGATEE_KEY, 0, uint32(now_ + 100), sub);
        vm.prank(ALICE);
        vm.expectRevert(Coordinator.IntervalMismatch.selector);
        coordinator.deliverComputeDelegatee(0, uint32(now_ + 100), sub, v, r, s, 2, INPUT, OUTPUT, PROOF, address(0));
        assertEq(coordinator.id(), 1);
        assertEq(coordinator.delegateCreatedIds(keccak256(abi.encode(address(delegatedConsumer), uint32(0)))), 0);
    }
}
