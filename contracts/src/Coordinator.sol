// SPDX-License-Identifier: BSD-3-Clause-Clear
pragma solidity ^0.8.4;

import {ReentrancyGuard} from "solady/utils/ReentrancyGuard.sol";
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
contract Coordinator is ReentrancyGuard {
    /// @dev Storage order of a subscription: 5 slots instead of the ABI order's 7 (6 for a
    ///      payment above 2**96 - 1). An unpaid delivery reads the first two slots, a paid one
    ///      also slots 3 and 4.
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
        address payable verifier;
        // slot 2
        bytes32 containerId;
        // slot 3
        address payable wallet;
        uint96 paymentAmount96;
        // slot 4
        address paymentToken;
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
    /// @dev Storage slot of Solady's ReentrancyGuard flag (private there).
    uint256 private constant REENTRANCY_GUARD_SLOT = 0x929eee149b4bd21268;

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
        // Pre-set the guard slot of Solady's ReentrancyGuard (0.0.201) to an unlocked value
        // (anything but address(this)), so the first delivery ever pays a 2,900-gas rewrite
        // instead of the 22,100-gas first write of a storage slot.
        assembly {
            sstore(REENTRANCY_GUARD_SLOT, 1)
        }
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
        s.verifier = payable(verifier);
        s.containerId = keccak256(abi.encode(containerId));
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
                IConsumerCallback(owner).rawReceiveCompute(
                    subscriptionId, interval, count + 1, msg.sender, "", "", "", containerId, index
                );
            } else {
                IConsumerCallback(owner).rawReceiveCompute(
                    subscriptionId, interval, count + 1, msg.sender, input, output, proof, bytes32(0), 0
                );
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
        s.verifier = sub.verifier;
        s.containerId = sub.containerId;
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
        // Spelled out: calling _paymentAmount(s) here measured 221 gas more per paid delivery
        // with solc 0.8.19 (test/Gas.t.sol).
        uint256 paymentAmount = s.wideAmount ? s.widePaymentAmount : s.paymentAmount96;
        if (!WALLET_FACTORY.isValidWallet(nodeWallet)) revert InvalidWallet();
        if (!s.walletValid && !WALLET_FACTORY.isValidWallet(address(consumerWallet))) revert InvalidWallet();

        address token = s.paymentToken;
        uint256 fee = FEE.FEE();
        address recipient = FEE.FEE_RECIPIENT();

        // The consumer pays the protocol fee twice on the base amount (fee <= 5000 keeps it <= 100 %).
        uint256 protocolCut = paymentAmount * (fee * 2) / FEE_DIVISOR;
        consumerWallet.cTransfer(owner, token, recipient, protocolCut);
        uint256 available = paymentAmount - protocolCut;

        IVerifier verifier = IVerifier(s.verifier);
        if (address(verifier) == address(0)) {
            consumerWallet.cTransfer(owner, token, nodeWallet, available);
            return;
        }

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
}

/// @dev The callback every subscription owner implements (BaseConsumer.rawReceiveCompute).
interface IConsumerCallback {
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
    ) external;
}
