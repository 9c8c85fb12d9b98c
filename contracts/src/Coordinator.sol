// SPDX-License-Identifier: BSD-3-Clause-Clear
pragma solidity ^0.8.24;

import {TransientReentrancyGuard} from "./utility/TransientReentrancyGuard.sol";
import {Registry} from "./Registry.sol";
import {Inbox} from "./Inbox.sol";
import {Fee} from "./payments/Fee.sol";
import {Wallet} from "./payments/Wallet.sol";
import {WalletFactory} from "./payments/WalletFactory.sol";
import {IVerifier} from "./payments/IVerifier.sol";

/// @notice A compute subscription. The field order is the ABI tuple order and the EIP-712 order.
/// @dev Stored in a different, tighter order (see `StoredSubscription`); this type is only the
///      external shape.
struct Subscription {
    address owner;
    uint32 activeAt;
    uint32 period;
    uint32 frequency;
    uint16 redundancy;
    bytes32 containerId;
    bool lazy;
    address payable verifier;
    uint256 paymentAmount;
    address paymentToken;
    address payable wallet;
}

/// @notice An escrowed delivery waiting for its proof verdict, as `proofRequests` returns it.
/// @dev Storage keeps these fields in `Coordinator.NodeDelivery`.
struct ProofRequest {
    uint32 expiry;
    Wallet nodeWallet;
    uint256 consumerEscrowed;
}

/// @title Coordinator
/// @notice Holds subscriptions, accepts deliveries from nodes, moves payments between Wallets
///         and settles proof verification.
contract Coordinator is TransientReentrancyGuard {
    /// @dev Storage order of a subscription: 5 slots instead of the ABI order's 7 (6 for a
    ///      payment above 2**96 - 1). An unpaid delivery reads the first two slots, a paid one
    ///      also slot 3, and one with a verifier slot 4 as well.
    struct StoredSubscription {
        // slot 0
        address owner;
        uint32 activeAt;
        uint32 period;
        uint32 frequency;
        // slot 1
        uint16 redundancy;
        bool lazy;
        bool paid; // paymentAmount != 0
        // `wallet` was a factory wallet at creation. Factory wallets stay valid, so a delivery
        // only asks the factory about wallets that were not valid yet when the subscription
        // was created.
        bool walletValid;
        bool wideAmount; // paymentAmount > type(uint96).max, stored in slot 5
        bool verified; // verifier != address(0)
        address paymentToken;
        // slot 2
        bytes32 containerId;
        // slot 3
        address payable wallet;
        uint96 paymentAmount96;
        // slot 4
        address payable verifier;
        // slot 5
        uint256 widePaymentAmount;
    }

    /// @dev Record per (subscription, interval, node): whether the node delivered (the
    ///      `nodeResponded` getter) and its pending proof request (`proofRequests`). Both getters
    ///      take the same key, so the flag shares the request's first slot, and a delivery with a
    ///      verifier writes one fresh slot less (22,100 gas).
    struct NodeDelivery {
        // slot 0
        uint32 expiry;
        Wallet nodeWallet;
        bool responded;
        // slot 1
        uint256 consumerEscrowed;
    }

    uint256 private constant FEE_DIVISOR = 10_000;
    uint32 private constant PROOF_WINDOW = 1 weeks;
    uint32 private constant CANCELLED = type(uint32).max;

    Fee private immutable FEE;
    Inbox private immutable INBOX;
    WalletFactory private immutable WALLET_FACTORY;

    /// @notice The id the next subscription gets (ids start at 1).
    uint32 public id = 1;

    /// @notice keccak256(abi.encode(subscriptionId, interval)) => deliveries so far.
    mapping(bytes32 => uint16) public redundancyCount;

    /// @dev keccak256(abi.encode(subscriptionId, interval, node)) => delivery and proof request.
    mapping(bytes32 => NodeDelivery) private nodeDeliveries;

    mapping(uint32 => StoredSubscription) private subscriptions;

    /// @dev Node wallets the factory has confirmed. A factory wallet stays valid, so after a
    ///      wallet's first paid delivery the coordinator reads this slot (2,100 gas) instead of
    ///      calling the factory (about 5,000 gas).
    mapping(address => bool) private knownNodeWallets;

    event SubscriptionCreated(uint32 indexed id);
    event SubscriptionCancelled(uint32 indexed id);
    event SubscriptionFulfilled(uint32 indexed id, address indexed node);
    event ProofVerified(
        uint32 indexed id, uint32 indexed interval, address indexed node, bool active, address verifier, bool valid
    );

    error InvalidWallet();
    error IntervalMismatch();
    error IntervalCompleted();
    error UnauthorizedVerifier();
    error NodeRespondedAlready();
    error SubscriptionNotFound();
    error ProofRequestNotFound();
    error NotSubscriptionOwner();
    error SubscriptionCompleted();
    error SubscriptionNotActive();
    error UnsupportedVerifierToken();
    /// @notice Thrown at creation for frequency 0, redundancy 0 or an owner that is not a
    ///         contract; such subscriptions could never be delivered.
    error InvalidSubscription();

    constructor(Registry registry) {
        FEE = Fee(registry.FEE());
        INBOX = Inbox(registry.INBOX());
        WALLET_FACTORY = WalletFactory(registry.WALLET_FACTORY());
    }

    /// @notice keccak256(abi.encode(subscriptionId, interval, node)) => delivered already.
    function nodeResponded(bytes32 key) external view returns (bool) {
        return nodeDeliveries[key].responded;
    }

    /// @notice keccak256(abi.encode(subscriptionId, interval, node)) => pending proof request;
    ///         all zeros when there is none.
    function proofRequests(bytes32 key)
        external
        view
        returns (uint32 expiry, Wallet nodeWallet, uint256 consumerEscrowed)
    {
        NodeDelivery storage delivery = nodeDeliveries[key];
        return (delivery.expiry, delivery.nodeWallet, delivery.consumerEscrowed);
    }

    /// @notice Returns subscription `subscriptionId`; unknown ids return all zeros.
    function getSubscription(uint32 subscriptionId) public view returns (Subscription memory sub) {
        StoredSubscription storage s = subscriptions[subscriptionId];
        sub.owner = s.owner;
        sub.activeAt = s.activeAt;
        sub.period = s.period;
        sub.frequency = s.frequency;
        sub.redundancy = s.redundancy;
        sub.containerId = s.containerId;
        sub.lazy = s.lazy;
        sub.verifier = s.verifier;
        sub.paymentAmount = _paymentAmount(s);
        sub.paymentToken = s.paymentToken;
        sub.wallet = s.wallet;
    }

    /// @notice Creates a subscription owned by the caller, active one `period` from now.
    /// @param containerId Container (or comma-joined pipeline) name; stored as
    ///        keccak256(abi.encode(containerId)).
    function createSubscription(
        string memory containerId,
        uint32 frequency,
        uint32 period,
        uint16 redundancy,
        bool lazy,
        address paymentToken,
        uint256 paymentAmount,
        address wallet,
        address verifier
    ) external returns (uint32) {
        // A contract calling from its constructor has no code yet, but it is not an EOA.
        if (msg.sender.code.length == 0 && msg.sender == tx.origin) revert InvalidSubscription();
        _checkShape(frequency, redundancy);
        uint32 subscriptionId = id;
        unchecked {
            id = subscriptionId + 1;
        }
        StoredSubscription storage s = subscriptions[subscriptionId];
        s.owner = msg.sender;
        s.activeAt = uint32(block.timestamp) + period;
        s.period = period;
        s.frequency = frequency;
        s.redundancy = redundancy;
        s.lazy = lazy;
        s.containerId = keccak256(abi.encode(containerId));
        _storeVerifier(s, payable(verifier));
        _storePayment(s, paymentAmount, paymentToken, payable(wallet));
        emit SubscriptionCreated(subscriptionId);
        return subscriptionId;
    }

    /// @notice Cancels a subscription; only its owner may. Pending proof requests still settle.
    function cancelSubscription(uint32 subscriptionId) external {
        StoredSubscription storage s = subscriptions[subscriptionId];
        if (s.owner != msg.sender) revert NotSubscriptionOwner();
        s.activeAt = CANCELLED;
        emit SubscriptionCancelled(subscriptionId);
    }

    /// @notice Interval current at this block: 1 for period 0, else (now - activeAt) / period + 1.
    /// @dev Unchecked, as in the reference: the caller must ensure now >= activeAt.
    function getSubscriptionInterval(uint32 activeAt, uint32 period) public view returns (uint32) {
        if (period == 0) return 1;
        unchecked {
            return ((uint32(block.timestamp) - activeAt) / period) + 1;
        }
    }

    /// @notice Delivers one interval's result: checks timing and redundancy, pays, stores the
    ///         result in the Inbox for lazy subscriptions and calls the owner back.
    function deliverCompute(
        uint32 subscriptionId,
        uint32 deliveryInterval,
        bytes calldata input,
        bytes calldata output,
        bytes calldata proof,
        address nodeWallet
    ) public nonReentrant {
        StoredSubscription storage s = subscriptions[subscriptionId];
        address owner = s.owner;
        uint32 activeAt = s.activeAt;
        uint32 period = s.period;
        uint32 frequency = s.frequency;

        if (owner == address(0)) revert SubscriptionNotFound();
        if (uint32(block.timestamp) < activeAt) revert SubscriptionNotActive();
        uint32 interval = getSubscriptionInterval(activeAt, period);
        if (interval != deliveryInterval) revert IntervalMismatch();
        if (interval > frequency) revert SubscriptionCompleted();

        // The flags share slot 1: read them together.
        uint16 redundancy = s.redundancy;
        bool lazy = s.lazy;
        bool paid = s.paid;

        // countKey = keccak256(abi.encode(subscriptionId, interval)) and
        // nodeKey = keccak256(abi.encode(subscriptionId, interval, msg.sender)), hashed in
        // memory past the free pointer instead of two abi.encode allocations.
        bytes32 countKey;
        bytes32 nodeKey;
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, and(subscriptionId, 0xffffffff))
            mstore(add(m, 0x20), and(interval, 0xffffffff))
            countKey := keccak256(m, 0x40)
            mstore(add(m, 0x40), caller())
            nodeKey := keccak256(m, 0x60)
        }

        uint16 count = redundancyCount[countKey];
        if (count == redundancy) revert IntervalCompleted();
        unchecked {
            // count < redundancy <= type(uint16).max
            redundancyCount[countKey] = count + 1;
        }
        NodeDelivery storage delivery = nodeDeliveries[nodeKey];
        if (delivery.responded) revert NodeRespondedAlready();
        delivery.responded = true;

        if (paid) {
            _pay(s, owner, subscriptionId, interval, delivery, proof, nodeWallet);
        }

        unchecked {
            if (lazy) {
                bytes32 containerId = s.containerId;
                uint256 index =
                    INBOX.writeViaCoordinator(containerId, msg.sender, subscriptionId, interval, input, output, proof);
                _callBack(
                    owner, subscriptionId, interval, count + 1, input[:0], output[:0], proof[:0], containerId, index
                );
            } else {
                _callBack(owner, subscriptionId, interval, count + 1, input, output, proof, bytes32(0), 0);
            }
        }
        emit SubscriptionFulfilled(subscriptionId, msg.sender);
    }

    /// @notice Settles an escrowed delivery. Before expiry only the subscription's verifier may
    ///         call it; from expiry on anyone may, and the node is paid as if the proof were valid.
    function finalizeProofVerification(uint32 subscriptionId, uint32 interval, address node, bool valid) external {
        bytes32 key = keccak256(abi.encode(subscriptionId, interval, node));
        NodeDelivery storage delivery = nodeDeliveries[key];
        uint32 expiry = delivery.expiry;
        if (expiry == 0) revert ProofRequestNotFound();
        Wallet nodeWallet = delivery.nodeWallet;
        uint256 consumerEscrowed = delivery.consumerEscrowed;
        // Cleared before any external call, so a re-entering verifier finds nothing to settle.
        // A request exists only after a delivery, so the node's responded flag stays set.
        nodeDeliveries[key] = NodeDelivery({
            expiry: 0,
            nodeWallet: Wallet(payable(address(0))),
            responded: true,
            consumerEscrowed: 0
        });

        StoredSubscription storage s = subscriptions[subscriptionId];
        address token = s.paymentToken;
        address owner = s.owner;
        uint256 paymentAmount = _paymentAmount(s);
        Wallet consumerWallet = Wallet(s.wallet);

        nodeWallet.cUnlock(node, token, paymentAmount);
        consumerWallet.cUnlock(owner, token, consumerEscrowed);

        bool active = uint32(block.timestamp) < expiry;
        if (active) {
            if (msg.sender != s.verifier) revert UnauthorizedVerifier();
            if (valid) {
                consumerWallet.cTransfer(owner, token, address(nodeWallet), consumerEscrowed);
            } else {
                nodeWallet.cTransfer(node, token, address(consumerWallet), paymentAmount);
            }
        } else {
            consumerWallet.cTransfer(owner, token, address(nodeWallet), consumerEscrowed);
        }
        emit ProofVerified(subscriptionId, interval, node, active, msg.sender, valid);
    }

    /// @dev Stores a subscription exactly as given (delegated creation).
    function _storeSubscription(uint32 subscriptionId, Subscription calldata sub) internal {
        StoredSubscription storage s = subscriptions[subscriptionId];
        s.owner = sub.owner;
        s.activeAt = sub.activeAt;
        s.period = sub.period;
        s.frequency = sub.frequency;
        s.redundancy = sub.redundancy;
        s.lazy = sub.lazy;
        s.containerId = sub.containerId;
        _storeVerifier(s, sub.verifier);
        _storePayment(s, sub.paymentAmount, sub.paymentToken, sub.wallet);
    }

    /// @dev Stores the payment fields. Only non-zero values are written, and the consumer
    ///      wallet of a paid subscription is checked with the factory once, here.
    function _storePayment(StoredSubscription storage s, uint256 amount, address token, address payable wallet)
        private
    {
        if (amount != 0) {
            s.paid = true;
            if (amount > type(uint96).max) {
                s.wideAmount = true;
                s.widePaymentAmount = amount;
            } else {
                s.paymentAmount96 = uint96(amount);
            }
            if (wallet != address(0) && WALLET_FACTORY.isValidWallet(wallet)) s.walletValid = true;
        }
        if (token != address(0)) s.paymentToken = token;
        if (wallet != address(0)) s.wallet = wallet;
    }

    /// @dev Only a set verifier is written; the flag in slot 1 tells a delivery whether to
    ///      read it.
    function _storeVerifier(StoredSubscription storage s, address payable verifier) private {
        if (verifier != address(0)) {
            s.verified = true;
            s.verifier = verifier;
        }
    }

    function _paymentAmount(StoredSubscription storage s) private view returns (uint256) {
        return s.wideAmount ? s.widePaymentAmount : s.paymentAmount96;
    }

    /// @dev Rejects subscriptions that could never be delivered.
    function _checkShape(uint32 frequency, uint16 redundancy) internal pure {
        if (frequency == 0 || redundancy == 0) revert InvalidSubscription();
    }

    function _pay(
        StoredSubscription storage s,
        address owner,
        uint32 subscriptionId,
        uint32 interval,
        NodeDelivery storage delivery,
        bytes calldata proof,
        address nodeWallet
    ) private {
        Wallet consumerWallet = Wallet(s.wallet);
        // Spelled out: calling _paymentAmount(s) here measured 119 gas more per paid delivery
        // with solc 0.8.24 (test/Gas.t.sol).
        uint256 paymentAmount = s.wideAmount ? s.widePaymentAmount : s.paymentAmount96;
        if (!knownNodeWallets[nodeWallet]) {
            if (!WALLET_FACTORY.isValidWallet(nodeWallet)) revert InvalidWallet();
            knownNodeWallets[nodeWallet] = true;
        }
        if (!s.walletValid && !WALLET_FACTORY.isValidWallet(address(consumerWallet))) revert InvalidWallet();

        address token = s.paymentToken;
        (uint256 fee, address recipient) = _fee();

        // The consumer pays the protocol fee twice on the base amount (fee <= 5000 keeps it <= 100 %).
        uint256 protocolCut = paymentAmount * (fee * 2) / FEE_DIVISOR;
        _cTransfer(address(consumerWallet), owner, token, recipient, protocolCut);
        uint256 available = paymentAmount - protocolCut;

        if (!s.verified) {
            _cTransfer(address(consumerWallet), owner, token, nodeWallet, available);
            return;
        }
        IVerifier verifier = IVerifier(s.verifier);

        if (!verifier.isSupportedToken(token)) revert UnsupportedVerifierToken();
        uint256 verifierFee = verifier.fee(token);
        available -= verifierFee;
        uint256 verifierCut = verifierFee * fee / FEE_DIVISOR;
        consumerWallet.cTransfer(owner, token, recipient, verifierCut);
        consumerWallet.cTransfer(owner, token, verifier.getWallet(), verifierFee - verifierCut);

        // The node escrows the full payment as collateral; the consumer escrows what is left.
        Wallet(payable(nodeWallet)).cLock(msg.sender, token, paymentAmount);
        consumerWallet.cLock(owner, token, available);
        delivery.expiry = uint32(block.timestamp) + PROOF_WINDOW;
        delivery.nodeWallet = Wallet(payable(nodeWallet));
        delivery.consumerEscrowed = available;
        verifier.requestProofVerification(subscriptionId, interval, msg.sender, proof);
    }

    // The calls below are encoded by hand, which saves about 1,000 gas per paid delivery over the
    // compiler's encoder and its code-size check before each call. The callees are factory
    // wallets and the Fee contract, which have code, and the consumer, checked as a high-level
    // call would.

    /// @dev `FEE.FEE()` and `FEE.FEE_RECIPIENT()`.
    function _fee() private view returns (uint256 fee, address recipient) {
        address target = address(FEE);
        assembly ("memory-safe") {
            mstore(0x00, 0xc57981b5) // FEE()
            if iszero(and(gt(returndatasize(), 0x1f), staticcall(gas(), target, 0x1c, 0x04, 0x00, 0x20))) {
                returndatacopy(0x00, 0x00, returndatasize())
                revert(0x00, returndatasize())
            }
            fee := and(mload(0x00), 0xffff)
            mstore(0x00, 0xebd09054) // FEE_RECIPIENT()
            if iszero(and(gt(returndatasize(), 0x1f), staticcall(gas(), target, 0x1c, 0x04, 0x00, 0x20))) {
                returndatacopy(0x00, 0x00, returndatasize())
                revert(0x00, returndatasize())
            }
            recipient := and(mload(0x00), 0xffffffffffffffffffffffffffffffffffffffff)
        }
    }

    /// @dev `Wallet(wallet).cTransfer(spender, token, to, amount)`; `wallet` is a factory wallet.
    function _cTransfer(address wallet, address spender, address token, address to, uint256 amount) private {
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, shl(224, 0x0d67cfd9)) // cTransfer(address,address,address,uint256)
            // Inline assembly sees the unused high bits of narrow types as they are, so clear them.
            mstore(add(m, 0x04), shr(96, shl(96, spender)))
            mstore(add(m, 0x24), shr(96, shl(96, token)))
            mstore(add(m, 0x44), shr(96, shl(96, to)))
            mstore(add(m, 0x64), amount)
            if iszero(call(gas(), shr(96, shl(96, wallet)), 0, m, 0x84, 0x00, 0x00)) {
                returndatacopy(m, 0x00, returndatasize())
                revert(m, returndatasize())
            }
        }
    }

    /// @dev `owner.rawReceiveCompute(subscriptionId, interval, redundancy, msg.sender, input,
    ///      output, proof, containerId, index)`. Reverts without data when `owner` has no code,
    ///      as a high-level call does, and passes the callee's revert data on.
    function _callBack(
        address owner,
        uint32 subscriptionId,
        uint32 interval,
        uint16 redundancy,
        bytes calldata input,
        bytes calldata output,
        bytes calldata proof,
        bytes32 containerId,
        uint256 index
    ) private {
        assembly ("memory-safe") {
            // Appends one `bytes` tail at `p` and writes its offset into head word `head`.
            function tail(args, head, p, offset, length) -> next {
                mstore(head, sub(p, args))
                mstore(p, length)
                calldatacopy(add(p, 0x20), offset, length)
                mstore(add(add(p, 0x20), length), 0) // zero padding
                next := add(add(p, 0x20), and(add(length, 0x1f), not(0x1f)))
            }
            let m := mload(0x40)
            mstore(m, shl(224, 0x7a411a8d)) // rawReceiveCompute(uint32,...,bytes32,uint256)
            let args := add(m, 0x04)
            mstore(args, and(subscriptionId, 0xffffffff))
            mstore(add(args, 0x20), and(interval, 0xffffffff))
            mstore(add(args, 0x40), and(redundancy, 0xffff))
            mstore(add(args, 0x60), caller())
            mstore(add(args, 0xe0), containerId)
            mstore(add(args, 0x100), index)
            let p := add(args, 0x120)
            p := tail(args, add(args, 0x80), p, input.offset, input.length)
            p := tail(args, add(args, 0xa0), p, output.offset, output.length)
            p := tail(args, add(args, 0xc0), p, proof.offset, proof.length)
            owner := shr(96, shl(96, owner))
            if iszero(extcodesize(owner)) { revert(0x00, 0x00) }
            if iszero(call(gas(), owner, 0, m, sub(p, m), 0x00, 0x00)) {
                returndatacopy(m, 0x00, returndatasize())
                revert(m, returndatasize())
            }
        }
    }
}
