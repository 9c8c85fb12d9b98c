// SPDX-License-Identifier: BSD-3-Clause-Clear
pragma solidity ^0.8.4;

import {Fixture} from "./lib/Fixture.sol";
import {Coordinator, Subscription} from "../src/Coordinator.sol";
import {EIP712Coordinator} from "../src/EIP712Coordinator.sol";
import {InboxItem} from "../src/Inbox.sol";
import {Wallet} from "../src/payments/Wallet.sol";
import {TransientReentrancyGuard} from "../src/utility/TransientReentrancyGuard.sol";

/// @dev Subscription owner that records the raw calldata of every callback and, depending on
///      `mode`, reverts with chosen data, returns chosen data or calls the coordinator again.
contract CalldataRecorder {
    uint8 internal constant RECORD = 0;
    uint8 internal constant REVERT = 1;
    uint8 internal constant RETURN = 2;
    uint8 internal constant REENTER = 3;

    address internal immutable COORDINATOR;
    address internal immutable SIGNER;

    uint8 public mode;
    bytes internal payload;
    bytes public lastCall;
    uint256 public callCount;
    bool public reentryOk;
    bytes public reentryResult;

    constructor(address coordinator, address signer) {
        COORDINATOR = coordinator;
        SIGNER = signer;
    }

    function getSigner() external view returns (address) {
        return SIGNER;
    }

    function setMode(uint8 newMode, bytes calldata newPayload) external {
        mode = newMode;
        payload = newPayload;
    }

    function create(
        string calldata containerId,
        uint32 frequency,
        uint32 period,
        uint16 redundancy,
        bool lazy,
        address paymentToken,
        uint256 paymentAmount,
        address wallet,
        address verifier
    ) external returns (uint32) {
        return Coordinator(COORDINATOR)
            .createSubscription(
                containerId, frequency, period, redundancy, lazy, paymentToken, paymentAmount, wallet, verifier
            );
    }

    fallback(bytes calldata data) external returns (bytes memory) {
        require(msg.sender == COORDINATOR, "recorder: caller is not the coordinator");
        lastCall = data;
        ++callCount;
        bytes memory chosen = payload;
        if (mode == REVERT) {
            assembly {
                revert(add(chosen, 0x20), mload(chosen))
            }
        }
        if (mode == REENTER) {
            (bool ok, bytes memory result) = COORDINATOR.call(chosen);
            reentryOk = ok;
            reentryResult = result;
        }
        if (mode == RETURN) return chosen;
        return "";
    }
}

/// @dev Byte-exact checks of what the hand-written storage and call encodings produce: Inbox
///      items against the reference's public array getter, consumer callbacks against the
///      compiler's encoding, subscriptions against abi.encode of the stored fields, and the
///      re-entrancy lock and node wallet record around them.
contract ExactEncodingTest is Fixture {
    string internal constant RAW_RECEIVE =
        "rawReceiveCompute(uint32,uint32,uint16,address,bytes,bytes,bytes,bytes32,uint256)";

    CalldataRecorder internal recorder;

    struct Written {
        bytes32 containerId;
        address node;
        uint256 index;
        uint32 timestamp;
        uint32 subscriptionId;
        uint32 interval;
        bytes input;
        bytes output;
        bytes proof;
    }

    function setUp() public override {
        super.setUp();
        recorder = new CalldataRecorder(address(coordinator), vm.addr(DELEGATEE_KEY));
    }

    // ---- helpers ----------------------------------------------------------------------------

    /// @dev `length` pseudo-random bytes derived from `seed`, with clean padding.
    function _blob(uint256 seed, uint256 length) internal pure returns (bytes memory b) {
        b = new bytes(length);
        for (uint256 i = 0; i < length; i += 32) {
            bytes32 word = keccak256(abi.encode(seed, i));
            assembly {
                mstore(add(add(b, 0x20), i), word)
            }
        }
        assembly {
            mstore(add(add(b, 0x20), length), 0)
        }
    }

    /// @dev A length from the edge-case table half of the time, else a random one below 3000.
    function _length(uint256 r) internal pure returns (uint256) {
        uint256[14] memory table = [uint256(0), 1, 5, 31, 32, 33, 63, 64, 65, 96, 127, 4095, 4096, 4097];
        if (r % 2 == 0) return table[(r >> 8) % table.length];
        return (r >> 8) % 3000;
    }

    function _rawItems(bytes32 containerId, address node, uint256 index) internal view returns (bool, bytes memory) {
        return
            address(inbox)
                .staticcall(abi.encodeWithSignature("items(bytes32,address,uint256)", containerId, node, index));
    }

    function _rawRead(bytes32 containerId, address node, uint256 index) internal view returns (bool, bytes memory) {
        return
            address(inbox)
                .staticcall(abi.encodeWithSignature("read(bytes32,address,uint256)", containerId, node, index));
    }

    /// @dev Checks both getters byte for byte against the reference's encoding of `w`.
    function _checkItem(Written memory w) internal view {
        (bool ok, bytes memory raw) = _rawItems(w.containerId, w.node, w.index);
        assertTrue(ok, "items() reverted for a written index");
        bytes memory expected = abi.encode(w.timestamp, w.subscriptionId, w.interval, w.input, w.output, w.proof);
        vm.assertEq(raw, expected, "items() encoding differs from the reference getter");

        (ok, raw) = _rawRead(w.containerId, w.node, w.index);
        assertTrue(ok, "read() reverted for a written index");
        InboxItem memory item = InboxItem(w.timestamp, w.subscriptionId, w.interval, w.input, w.output, w.proof);
        vm.assertEq(raw, abi.encode(item), "read() encoding differs from abi.encode(InboxItem)");
    }

    function _checkPastEnd(bytes32 containerId, address node, uint256 index) internal view {
        bytes memory panic = abi.encodeWithSignature("Panic(uint256)", uint256(0x32));
        (bool ok, bytes memory raw) = _rawItems(containerId, node, index);
        assertTrue(!ok, "items() past the end did not revert");
        vm.assertEq(raw, panic, "items() past the end: wrong revert data");
        (ok, raw) = _rawRead(containerId, node, index);
        assertTrue(!ok, "read() past the end did not revert");
        vm.assertEq(raw, panic, "read() past the end: wrong revert data");
    }

    function _rawReceive(
        uint32 subscriptionId,
        uint32 interval,
        uint16 redundancy,
        address node,
        bytes memory input,
        bytes memory output,
        bytes memory proof,
        bytes32 containerId,
        uint256 index
    ) internal pure returns (bytes memory) {
        return abi.encodeWithSignature(
            RAW_RECEIVE, subscriptionId, interval, redundancy, node, input, output, proof, containerId, index
        );
    }

    function _rawSubscription(uint32 subscriptionId) internal view returns (bytes memory raw) {
        bool ok;
        (ok, raw) = address(coordinator).staticcall(abi.encodeCall(Coordinator.getSubscription, (subscriptionId)));
        assertTrue(ok, "getSubscription reverted");
    }

    // ---- Inbox round trips --------------------------------------------------------------------

    /// forge-config: default.fuzz.runs = 48
    function testFuzzInboxRoundTripManyItems(uint256 seed) public {
        address[3] memory nodes = [ALICE, BOB, CHARLIE];
        bytes32[2] memory containers = [keccak256("recorder-a"), keccak256("recorder-b")];
        uint256[6] memory counts;
        Written[] memory written = new Written[](10);

        for (uint256 k = 0; k < written.length; ++k) {
            uint256 r = uint256(keccak256(abi.encode(seed, k)));
            uint256 n = r % 3;
            uint256 c = (r >> 4) % 2;
            Written memory w = written[k];
            w.containerId = containers[c];
            w.node = nodes[n];
            w.index = counts[n * 2 + c]++;
            w.timestamp = uint32(now_);
            w.input = _blob(r + 1, _length(uint256(keccak256(abi.encode(r, "in")))));
            w.output = _blob(r + 2, _length(uint256(keccak256(abi.encode(r, "out")))));
            w.proof = _blob(r + 3, _length(uint256(keccak256(abi.encode(r, "proof")))));
            vm.prank(w.node);
            uint256 index = inbox.write(w.containerId, w.input, w.output, w.proof);
            assertEq(index, w.index, "write() index");
            _skip(1 + (r >> 40) % 1000);
        }

        for (uint256 k = 0; k < written.length; ++k) {
            _checkItem(written[k]);
        }
        for (uint256 n = 0; n < 3; ++n) {
            for (uint256 c = 0; c < 2; ++c) {
                _checkPastEnd(containers[c], nodes[n], counts[n * 2 + c]);
            }
        }
    }

    function testInboxLargeNeighbouringItems() public {
        bytes32 cid = keccak256("recorder-large");
        uint256[7] memory sizes = [uint256(0), 32, 64, 4096, 8191, 12_000, 1];
        Written[] memory written = new Written[](sizes.length * 2);
        for (uint256 k = 0; k < sizes.length; ++k) {
            for (uint256 n = 0; n < 2; ++n) {
                Written memory w = written[k * 2 + n];
                w.containerId = cid;
                w.node = n == 0 ? ALICE : BOB;
                w.index = k;
                w.timestamp = uint32(now_);
                w.input = _blob(k * 10 + n, sizes[k]);
                w.output = _blob(k * 10 + n + 100, sizes[(k + 1) % sizes.length]);
                w.proof = _blob(k * 10 + n + 200, sizes[(k + 2) % sizes.length]);
                vm.prank(w.node);
                inbox.write(w.containerId, w.input, w.output, w.proof);
            }
        }
        for (uint256 k = 0; k < written.length; ++k) {
            _checkItem(written[k]);
        }
        _checkPastEnd(cid, ALICE, sizes.length);
        _checkPastEnd(cid, ALICE, type(uint256).max);
        _checkPastEnd(cid, CHARLIE, 0);
    }

    /// @dev Input bytes whose calldata padding is 0xff must not leak into the stored item.
    function testInboxIgnoresDirtyCalldataPadding() public {
        bytes memory data = abi.encodeCall(inbox.write, (CONTAINER_ID, hex"0102030405", hex"aa", hex""));
        // Layout: selector, containerId, 3 offsets, then input tail (length word + 1 data word).
        uint256 inputData = 4 + 32 * 5;
        for (uint256 i = inputData + 5; i < inputData + 32; ++i) {
            data[i] = 0xff;
        }
        vm.prank(ALICE);
        (bool ok,) = address(inbox).call(data);
        assertTrue(ok, "write with dirty padding reverted");
        _checkItem(Written(CONTAINER_ID, ALICE, 0, uint32(now_), 0, 0, hex"0102030405", hex"aa", hex""));
    }

    function testFuzzLazyDeliveryInboxItemMatches(bytes calldata input, bytes calldata output, bytes calldata proof)
        public
    {
        uint32 id = recorder.create("recorder-lazy", 1, 0, 3, true, address(0), 0, address(0), address(0));
        bytes32 cid = keccak256(abi.encode("recorder-lazy"));
        vm.prank(BOB);
        inbox.write(cid, "x", "", "y");
        vm.prank(BOB);
        coordinator.deliverCompute(id, 1, input, output, proof, address(0));
        _checkItem(Written(cid, BOB, 1, uint32(now_), id, 1, input, output, proof));
        vm.assertEq(
            recorder.lastCall(),
            _rawReceive(id, 1, 1, BOB, "", "", "", cid, 1),
            "lazy callback calldata differs from the reference encoding"
        );
        _checkPastEnd(cid, BOB, 2);
    }

    // ---- consumer callback --------------------------------------------------------------------

    function testFuzzCallbackCalldataIsExact(bytes calldata input, bytes calldata output, bytes calldata proof) public {
        uint32 id = recorder.create("recorder", 1, 0, 1, false, address(0), 0, address(0), address(0));
        vm.prank(BOB);
        coordinator.deliverCompute(id, 1, input, output, proof, address(0));
        vm.assertEq(
            recorder.lastCall(),
            _rawReceive(id, 1, 1, BOB, input, output, proof, bytes32(0), 0),
            "callback calldata differs from the reference encoding"
        );
    }

    function testCallbackCalldataForEdgeLengths() public {
        uint256[12] memory sizes = [uint256(0), 1, 31, 32, 33, 63, 64, 65, 95, 96, 4096, 4097];
        for (uint256 k = 0; k < sizes.length; ++k) {
            bytes memory input = _blob(k, sizes[k]);
            bytes memory output = _blob(k + 50, sizes[(k + 5) % sizes.length]);
            bytes memory proof = _blob(k + 99, sizes[(k + 7) % sizes.length]);
            uint32 id = recorder.create("recorder", 1, 0, 2, false, address(0), 0, address(0), address(0));
            vm.prank(ALICE);
            coordinator.deliverCompute(id, 1, "", "", "", address(0));
            vm.prank(BOB);
            coordinator.deliverCompute(id, 1, input, output, proof, address(0));
            vm.assertEq(
                recorder.lastCall(),
                _rawReceive(id, 1, 2, BOB, input, output, proof, bytes32(0), 0),
                "callback calldata differs for an edge length"
            );
        }
    }

    /// @dev The node's calldata has 0xff in the padding of `input`; the callback must see zeros.
    function testCallbackCleansDirtyCalldataPadding() public {
        uint32 id = recorder.create("recorder", 1, 0, 1, false, address(0), 0, address(0), address(0));
        bytes memory data =
            abi.encodeCall(coordinator.deliverCompute, (id, 1, hex"0102030405", hex"aa", hex"", address(0)));
        // Layout: selector, id, interval, 3 offsets, nodeWallet, then input tail.
        uint256 inputData = 4 + 32 * 7;
        for (uint256 i = inputData + 5; i < inputData + 32; ++i) {
            data[i] = 0xff;
        }
        vm.prank(BOB);
        (bool ok,) = address(coordinator).call(data);
        assertTrue(ok, "delivery with dirty padding reverted");
        vm.assertEq(
            recorder.lastCall(),
            _rawReceive(id, 1, 1, BOB, hex"0102030405", hex"aa", hex"", bytes32(0), 0),
            "callback calldata carries the node's dirty padding"
        );
    }

    function testFuzzConsumerRevertDataBubbles(bytes calldata revertData) public {
        uint32 id = recorder.create("recorder", 1, 0, 1, false, address(0), 0, address(0), address(0));
        recorder.setMode(1, revertData);
        vm.prank(BOB);
        (bool ok, bytes memory raw) = address(coordinator)
            .call(abi.encodeCall(coordinator.deliverCompute, (id, 1, INPUT, OUTPUT, PROOF, address(0))));
        assertTrue(!ok, "delivery succeeded although the consumer reverted");
        vm.assertEq(raw, revertData, "revert data changed on the way out");
        assertTrue(!coordinator.nodeResponded(keccak256(abi.encode(id, uint32(1), BOB))), "delivery not rolled back");
    }

    function testLargeConsumerRevertDataBubbles() public {
        bytes memory revertData = _blob(7, 10_001);
        uint32 id = recorder.create("recorder", 1, 0, 1, false, address(0), 0, address(0), address(0));
        recorder.setMode(1, revertData);
        vm.prank(BOB);
        (bool ok, bytes memory raw) = address(coordinator)
            .call(abi.encodeCall(coordinator.deliverCompute, (id, 1, INPUT, OUTPUT, PROOF, address(0))));
        assertTrue(!ok, "delivery succeeded although the consumer reverted");
        vm.assertEq(raw, revertData, "large revert data changed on the way out");
    }

    function testConsumerReturnDataIsIgnored() public {
        uint32 id = recorder.create("recorder", 1, 0, 1, false, address(0), 0, address(0), address(0));
        recorder.setMode(2, _blob(3, 40_000));
        vm.prank(BOB);
        coordinator.deliverCompute(id, 1, INPUT, OUTPUT, PROOF, address(0));
        assertTrue(coordinator.nodeResponded(keccak256(abi.encode(id, uint32(1), BOB))), "delivery recorded");
        vm.assertEq(
            recorder.lastCall(), _rawReceive(id, 1, 1, BOB, INPUT, OUTPUT, PROOF, bytes32(0), 0), "callback calldata"
        );
    }

    // ---- re-entrancy through the callback ------------------------------------------------------

    function testReentryIntoDeliverComputeIsRejected() public {
        uint32 id = recorder.create("recorder", 1, 0, 1, false, address(0), 0, address(0), address(0));
        uint32 other = _subscribe(1, 0, 1, false);
        recorder.setMode(3, abi.encodeCall(coordinator.deliverCompute, (other, 1, INPUT, OUTPUT, PROOF, address(0))));
        vm.prank(BOB);
        coordinator.deliverCompute(id, 1, INPUT, OUTPUT, PROOF, address(0));
        assertTrue(!recorder.reentryOk(), "re-entered deliverCompute succeeded");
        vm.assertEq(
            recorder.reentryResult(),
            abi.encodeWithSelector(TransientReentrancyGuard.Reentrancy.selector),
            "re-entry revert data"
        );
        // The lock is released after the outer delivery, in the same transaction.
        _deliver(BOB, other, 1);
        assertTrue(coordinator.nodeResponded(keccak256(abi.encode(other, uint32(1), BOB))), "later delivery");
    }

    function testReentryIntoDeliverComputeDelegateeIsRejected() public {
        uint32 id = recorder.create("recorder", 1, 0, 1, false, address(0), 0, address(0), address(0));
        Subscription memory sub;
        sub.owner = address(recorder);
        sub.activeAt = uint32(now_);
        sub.frequency = 1;
        sub.redundancy = 1;
        sub.containerId = CONTAINER_ID;
        uint32 expiry = uint32(now_ + 100);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(DELEGATEE_KEY, _digest(address(coordinator), 7, expiry, sub));
        recorder.setMode(
            3,
            abi.encodeCall(
                coordinator.deliverComputeDelegatee, (7, expiry, sub, v, r, s, 1, INPUT, OUTPUT, PROOF, address(0))
            )
        );
        uint32 nextId = coordinator.id();
        vm.prank(BOB);
        coordinator.deliverCompute(id, 1, INPUT, OUTPUT, PROOF, address(0));
        assertTrue(!recorder.reentryOk(), "re-entered deliverComputeDelegatee succeeded");
        vm.assertEq(
            recorder.reentryResult(),
            abi.encodeWithSelector(TransientReentrancyGuard.Reentrancy.selector),
            "re-entry revert data"
        );
        assertEq(uint256(coordinator.id()), uint256(nextId), "creation inside the failed re-entry was kept");
        assertEq(uint256(coordinator.delegateCreatedIds(keccak256(abi.encode(address(recorder), uint32(7))))), 0);
    }

    // ---- subscription storage ------------------------------------------------------------------

    function testFuzzSubscriptionFieldsRoundTrip(
        uint32 frequency,
        uint32 period,
        uint16 redundancy,
        bool lazy,
        address paymentToken,
        uint256 paymentAmount,
        address wallet,
        address verifier
    ) public {
        frequency = uint32(bound(frequency, 1, type(uint32).max));
        redundancy = uint16(bound(redundancy, 1, type(uint16).max));
        period = uint32(bound(period, 0, type(uint32).max - now_));
        uint32 id = recorder.create(
            "recorder", frequency, period, redundancy, lazy, paymentToken, paymentAmount, wallet, verifier
        );
        Subscription memory expected = Subscription(
            address(recorder),
            uint32(now_) + period,
            period,
            frequency,
            redundancy,
            keccak256(abi.encode("recorder")),
            lazy,
            payable(verifier),
            paymentAmount,
            paymentToken,
            payable(wallet)
        );
        vm.assertEq(_rawSubscription(id), abi.encode(expected), "getSubscription differs from the created fields");
    }

    function testSubscriptionEdgeFieldsRoundTrip() public {
        uint256[6] memory amounts =
            [uint256(0), 1, type(uint96).max, uint256(type(uint96).max) + 1, 2 ** 200, type(uint256).max];
        address[2] memory verifiers = [address(0), address(optimisticVerifier)];
        address[2] memory tokens = [address(0), address(token)];
        for (uint256 a = 0; a < amounts.length; ++a) {
            for (uint256 v = 0; v < 2; ++v) {
                for (uint256 t = 0; t < 2; ++t) {
                    address wallet = walletFactory.createWallet(USER);
                    uint32 id =
                        recorder.create("recorder", 3, 60, 2, t == 1, tokens[t], amounts[a], wallet, verifiers[v]);
                    Subscription memory expected = Subscription(
                        address(recorder),
                        uint32(now_) + 60,
                        60,
                        3,
                        2,
                        keccak256(abi.encode("recorder")),
                        t == 1,
                        payable(verifiers[v]),
                        amounts[a],
                        tokens[t],
                        payable(wallet)
                    );
                    vm.assertEq(_rawSubscription(id), abi.encode(expected), "edge subscription fields");
                }
            }
        }
    }

    function testFuzzDelegatedSubscriptionFieldsRoundTrip(Subscription memory sub, uint32 nonce) public {
        sub.owner = address(recorder);
        sub.frequency = uint32(bound(sub.frequency, 1, type(uint32).max));
        sub.redundancy = uint16(bound(sub.redundancy, 1, type(uint16).max));
        uint32 expiry = uint32(now_ + 100);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(DELEGATEE_KEY, _digest(address(coordinator), nonce, expiry, sub));
        uint32 id = coordinator.createSubscriptionDelegatee(nonce, expiry, sub, v, r, s);
        vm.assertEq(_rawSubscription(id), abi.encode(sub), "delegated getSubscription differs from the signed fields");
    }

    // ---- payments with wide amounts and the node wallet cache ----------------------------------

    function testWideAmountPaidDeliveryPaysExactly() public {
        uint256 amount = 2 ** 100 + 12_345;
        Wallet consumerWallet = _fundedWallet(USER, address(token), amount, address(recorder));
        Wallet nodeWallet = Wallet(payable(walletFactory.createWallet(ALICE)));
        uint32 id =
            recorder.create("recorder", 1, 0, 1, false, address(token), amount, address(consumerWallet), address(0));
        _deliverPaid(ALICE, id, 1, address(nodeWallet));
        uint256 cut = amount * (uint256(FEE_BP) * 2) / 10_000;
        assertEq(token.balanceOf(PROTOCOL), cut, "protocol cut");
        assertEq(token.balanceOf(address(nodeWallet)), amount - cut, "node payment");
        assertEq(token.balanceOf(address(consumerWallet)), 0, "consumer wallet drained");
    }

    function testWideAmountWithVerifierEscrowsExactly() public {
        uint256 amount = 2 ** 100 + 12_345;
        uint256 verifierFee = 2 ** 97 + 3;
        optimisticVerifier.updateFee(address(token), verifierFee);
        Wallet consumerWallet = _fundedWallet(USER, address(token), amount, address(recorder));
        Wallet nodeWallet = _fundedWallet(ALICE, address(token), amount, ALICE);
        uint32 id = recorder.create(
            "recorder", 1, 0, 1, false, address(token), amount, address(consumerWallet), address(optimisticVerifier)
        );
        _deliverPaid(ALICE, id, 1, address(nodeWallet));
        uint256 cut = amount * (uint256(FEE_BP) * 2) / 10_000;
        uint256 verifierCut = verifierFee * FEE_BP / 10_000;
        (uint32 expiry, Wallet escrowWallet, uint256 escrowed) =
            coordinator.proofRequests(keccak256(abi.encode(id, uint32(1), ALICE)));
        assertEq(uint256(expiry), now_ + 1 weeks, "proof expiry");
        assertEq(address(escrowWallet), address(nodeWallet), "escrow node wallet");
        assertEq(escrowed, amount - cut - verifierFee, "consumer escrow");
        assertEq(token.balanceOf(PROTOCOL), cut + verifierCut, "protocol cut");
        assertEq(token.balanceOf(optimisticVerifier.getWallet()), verifierFee - verifierCut, "verifier payment");
    }

    function testKnownNodeWalletCacheRejectsForeignWallet() public {
        Wallet consumerWallet = _fundedWallet(USER, address(0), 2 ether, address(recorder));
        Wallet nodeWallet = Wallet(payable(walletFactory.createWallet(ALICE)));
        uint32 id =
            recorder.create("recorder", 1, 0, 3, false, address(0), 1 ether, address(consumerWallet), address(0));
        _deliverPaid(ALICE, id, 1, address(nodeWallet));

        Wallet direct = Wallet(payable(_deploy("Wallet.sol:Wallet", abi.encode(registry, BOB))));
        vm.expectRevert(Coordinator.InvalidWallet.selector);
        _deliverPaid(BOB, id, 1, address(direct));

        // The cached wallet with garbage above bit 160 must not be accepted either.
        bytes memory data =
            abi.encodeCall(coordinator.deliverCompute, (id, 1, INPUT, OUTPUT, PROOF, address(nodeWallet)));
        // nodeWallet is the sixth head word.
        data[4 + 32 * 5] = 0x01;
        vm.prank(CHARLIE);
        (bool ok,) = address(coordinator).call(data);
        assertTrue(!ok, "a node wallet word with dirty high bits was accepted");
    }

    // ---- dirty calldata in the delegated subscription struct -------------------------------

    /// @dev Signs the clean `sub`, then sets high bits in head word `field` of the struct. The
    ///      coordinator must reject the call rather than store a value the signer never saw.
    function _callDelegateeWithDirtyField(uint256 field, uint8 byteIndex, bytes1 value) internal returns (bool ok) {
        Subscription memory sub;
        sub.owner = address(recorder);
        sub.activeAt = uint32(now_);
        sub.frequency = 1;
        sub.redundancy = 1;
        sub.containerId = CONTAINER_ID;
        uint32 expiry = uint32(now_ + 100);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(DELEGATEE_KEY, _digest(address(coordinator), 1, expiry, sub));
        bytes memory data = abi.encodeCall(coordinator.createSubscriptionDelegatee, (1, expiry, sub, v, r, s));
        // Head: selector, nonce, expiry, then the 11 static struct fields inline.
        data[4 + 32 * (2 + field) + byteIndex] = value;
        (ok,) = address(coordinator).call(data);
    }

    function testDelegatedDirtyVerifierIsRejected() public {
        assertTrue(!_callDelegateeWithDirtyField(7, 0, 0x01), "dirty verifier word accepted");
    }

    function testDelegatedDirtyWalletIsRejected() public {
        assertTrue(!_callDelegateeWithDirtyField(10, 0, 0x01), "dirty wallet word accepted");
    }

    function testDelegatedDirtyTokenIsRejected() public {
        assertTrue(!_callDelegateeWithDirtyField(9, 0, 0x01), "dirty payment token word accepted");
    }

    function testDelegatedDirtyLazyIsRejected() public {
        assertTrue(!_callDelegateeWithDirtyField(6, 31, 0x02), "lazy = 2 accepted");
    }

    function testDelegatedDirtyRedundancyIsRejected() public {
        assertTrue(!_callDelegateeWithDirtyField(4, 29, 0x01), "redundancy with bit 16 set accepted");
    }

    // ---- lock release and delegated lazy delivery ------------------------------------------

    function testLockReleasedAfterRevertedDelivery() public {
        uint32 id = recorder.create("recorder", 1, 0, 1, false, address(0), 0, address(0), address(0));
        recorder.setMode(1, hex"deadbeef");
        vm.prank(BOB);
        (bool ok,) = address(coordinator)
            .call(abi.encodeCall(coordinator.deliverCompute, (id, 1, INPUT, OUTPUT, PROOF, address(0))));
        assertTrue(!ok, "delivery succeeded although the consumer reverted");
        recorder.setMode(0, "");
        _deliver(BOB, id, 1);
        assertTrue(coordinator.nodeResponded(keccak256(abi.encode(id, uint32(1), BOB))), "retry delivered");
    }

    function testFuzzDelegatedLazyDeliveryCallback(bytes32 containerId, bytes calldata output) public {
        Subscription memory sub;
        sub.owner = address(recorder);
        sub.activeAt = uint32(now_);
        sub.frequency = 1;
        sub.redundancy = 1;
        sub.containerId = containerId;
        sub.lazy = true;
        uint32 expiry = uint32(now_ + 100);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(DELEGATEE_KEY, _digest(address(coordinator), 3, expiry, sub));
        vm.prank(CHARLIE);
        coordinator.deliverComputeDelegatee(3, expiry, sub, v, r, s, 1, INPUT, output, PROOF, address(0));
        uint32 id = coordinator.id() - 1;
        vm.assertEq(
            recorder.lastCall(), _rawReceive(id, 1, 1, CHARLIE, "", "", "", containerId, 0), "delegated lazy callback"
        );
        _checkItem(Written(containerId, CHARLIE, 0, uint32(now_), id, 1, INPUT, output, PROOF));
    }
}
