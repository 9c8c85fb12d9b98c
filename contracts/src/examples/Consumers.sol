// SPDX-License-Identifier: BSD-3-Clause-Clear
pragma solidity ^0.8.4;

import {BaseConsumer} from "../consumer/Base.sol";
import {CallbackConsumer} from "../consumer/Callback.sol";
import {SubscriptionConsumer} from "../consumer/Subscription.sol";
import {Delegator} from "../pattern/Delegator.sol";
import {Allowlist} from "../pattern/Allowlist.sol";

/// @notice One delivery as a consumer saw it.
struct Delivery {
    bool received;
    address node;
    bytes input;
    bytes output;
    bytes proof;
    bytes32 containerId;
    uint256 index;
}

/// @title DeliveryRecorder
/// @notice Stores every delivery by (subscription id, interval, redundancy position), so
///         end-to-end tests can read back exactly what the coordinator passed.
abstract contract DeliveryRecorder {
    mapping(uint32 => mapping(uint32 => mapping(uint16 => Delivery))) private deliveries;

    /// @notice Deliveries received so far, over all subscriptions.
    uint256 public deliveryCount;

    event DeliveryReceived(uint32 indexed subscriptionId, uint32 indexed interval, uint16 redundancy, address node);

    /// @notice The delivery recorded at `redundancy` (1-based) of `interval`.
    function getDelivery(uint32 subscriptionId, uint32 interval, uint16 redundancy)
        external
        view
        returns (Delivery memory)
    {
        return deliveries[subscriptionId][interval][redundancy];
    }

    function _record(
        uint32 subscriptionId,
        uint32 interval,
        uint16 redundancy,
        address node,
        bytes calldata input,
        bytes calldata output,
        bytes calldata proof,
        bytes32 containerId,
        uint256 index
    ) internal {
        deliveries[subscriptionId][interval][redundancy] =
            Delivery(true, node, input, output, proof, containerId, index);
        ++deliveryCount;
        emit DeliveryReceived(subscriptionId, interval, redundancy, node);
    }
}

/// @title HelloConsumer
/// @notice The smallest example: asks container "hello-world" to greet a name once and stores
///         the output.
contract HelloConsumer is CallbackConsumer {
    /// @notice Output of each request.
    mapping(uint32 => bytes) public outputs;

    /// @notice Output of the most recent delivery.
    bytes public lastOutput;

    event HelloRequested(uint32 indexed subscriptionId, string name);
    event HelloReceived(uint32 indexed subscriptionId, bytes output);

    constructor(address registry) CallbackConsumer(registry) {}

    /// @notice Requests a greeting for `name` (inputs: abi.encode(name)).
    function sayHello(string calldata name) external returns (uint32 subscriptionId) {
        subscriptionId = _requestCompute("hello-world", abi.encode(name), 1, address(0), 0, address(0), address(0));
        emit HelloRequested(subscriptionId, name);
    }

    function _receiveCompute(
        uint32 subscriptionId,
        uint32,
        uint16,
        address,
        bytes calldata,
        bytes calldata output,
        bytes calldata,
        bytes32,
        uint256
    ) internal override {
        outputs[subscriptionId] = output;
        lastOutput = output;
        emit HelloReceived(subscriptionId, output);
    }
}

/// @title GenericCallbackConsumer
/// @notice One-shot requests for any container, with any payment and verifier; records every
///         delivery.
contract GenericCallbackConsumer is CallbackConsumer, DeliveryRecorder {
    constructor(address registry) CallbackConsumer(registry) {}

    function requestCompute(
        string calldata containerId,
        bytes calldata inputs,
        uint16 redundancy,
        address paymentToken,
        uint256 paymentAmount,
        address wallet,
        address verifier
    ) external returns (uint32) {
        return _requestCompute(containerId, inputs, redundancy, paymentToken, paymentAmount, wallet, verifier);
    }

    function _receiveCompute(
        uint32 subscriptionId,
        uint32 interval,
        uint16 redundancy,
        address node,
        bytes calldata input,
        bytes calldata output,
        bytes calldata proof,
        bytes32 containerId,
        uint256 index
    ) internal override {
        _record(subscriptionId, interval, redundancy, node, input, output, proof, containerId, index);
    }
}

/// @title GenericSubscriptionConsumer
/// @notice Recurring subscriptions for any container; records every delivery. Inputs are the
///         bytes set with `setInputs` for the subscription, or, when none were set,
///         abi.encode(subscriptionId, interval, timestamp, caller).
contract GenericSubscriptionConsumer is SubscriptionConsumer, DeliveryRecorder {
    mapping(uint32 => bytes) private inputs;

    constructor(address registry) SubscriptionConsumer(registry) {}

    function createSubscription(
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
        return _createComputeSubscription(
            containerId, frequency, period, redundancy, lazy, paymentToken, paymentAmount, wallet, verifier
        );
    }

    function cancelSubscription(uint32 subscriptionId) external {
        _cancelComputeSubscription(subscriptionId);
    }

    /// @notice Fixes the inputs served for `subscriptionId`.
    function setInputs(uint32 subscriptionId, bytes calldata data) external {
        inputs[subscriptionId] = data;
    }

    function getContainerInputs(uint32 subscriptionId, uint32 interval, uint32 timestamp, address caller)
        external
        view
        virtual
        override
        returns (bytes memory)
    {
        bytes memory fixedInputs = inputs[subscriptionId];
        if (fixedInputs.length != 0) return fixedInputs;
        return abi.encode(subscriptionId, interval, timestamp, caller);
    }

    function _receiveCompute(
        uint32 subscriptionId,
        uint32 interval,
        uint16 redundancy,
        address node,
        bytes calldata input,
        bytes calldata output,
        bytes calldata proof,
        bytes32 containerId,
        uint256 index
    ) internal virtual override {
        _record(subscriptionId, interval, redundancy, node, input, output, proof, containerId, index);
    }
}

/// @title DelegatedSubscriptionConsumer
/// @notice Accepts subscriptions signed off-chain by its delegated signer
///         (EIP712Coordinator.createSubscriptionDelegatee); records every delivery.
contract DelegatedSubscriptionConsumer is GenericSubscriptionConsumer, Delegator {
    constructor(address registry, address signer) GenericSubscriptionConsumer(registry) Delegator(signer) {}

    /// @notice Replaces the delegated signer (unrestricted: test consumer).
    function updateSigner(address newSigner) external {
        _updateSigner(newSigner);
    }
}

/// @title AllowlistSubscriptionConsumer
/// @notice Like GenericSubscriptionConsumer, but only listed nodes may deliver.
contract AllowlistSubscriptionConsumer is GenericSubscriptionConsumer, Allowlist {
    constructor(address registry, address[] memory initialAllowed)
        GenericSubscriptionConsumer(registry)
        Allowlist(initialAllowed)
    {}

    /// @notice Updates the list (unrestricted: test consumer).
    function updateAllowlist(address[] calldata nodes, bool[] calldata statuses) external {
        _updateAllowlist(nodes, statuses);
    }

    function _receiveCompute(
        uint32 subscriptionId,
        uint32 interval,
        uint16 redundancy,
        address node,
        bytes calldata input,
        bytes calldata output,
        bytes calldata proof,
        bytes32 containerId,
        uint256 index
    ) internal override onlyAllowedNode(node) {
        GenericSubscriptionConsumer._receiveCompute(
            subscriptionId, interval, redundancy, node, input, output, proof, containerId, index
        );
    }
}

/// @title RevertingConsumer
/// @notice Every delivery to it reverts with AlwaysReverts(), so the whole deliverCompute
///         transaction reverts: lets node tests exercise failed simulations.
contract RevertingConsumer is SubscriptionConsumer {
    error AlwaysReverts();

    constructor(address registry) SubscriptionConsumer(registry) {}

    function createSubscription(string calldata containerId, uint32 frequency, uint32 period, uint16 redundancy)
        external
        returns (uint32)
    {
        return _createComputeSubscription(
            containerId, frequency, period, redundancy, false, address(0), 0, address(0), address(0)
        );
    }

    function _receiveCompute(uint32, uint32, uint16, address, bytes calldata, bytes calldata, bytes calldata, bytes32, uint256)
        internal
        pure
        override
    {
        revert AlwaysReverts();
    }
}

/// @title IrisConsumer
/// @notice Classifies an iris flower with container "iris-classification". Inputs are
///         abi.encode(uint256[4]) of the four measurements scaled by 1e6; the output is
///         abi.encode(bytes raw, bytes processed), and the first non-empty of the two decodes as
///         uint256[] (class probabilities scaled by 1e6).
contract IrisConsumer is CallbackConsumer {
    /// @notice Decoded result per request.
    mapping(uint32 => uint256[]) private results;

    event IrisRequested(uint32 indexed subscriptionId, uint256[4] features);
    event IrisClassified(uint32 indexed subscriptionId, uint256[] result);

    constructor(address registry) CallbackConsumer(registry) {}

    /// @notice Requests a classification of `features` (each scaled by 1e6).
    function classify(uint256[4] calldata features) external returns (uint32 subscriptionId) {
        subscriptionId =
            _requestCompute("iris-classification", abi.encode(features), 1, address(0), 0, address(0), address(0));
        emit IrisRequested(subscriptionId, features);
    }

    /// @notice The decoded result of `subscriptionId` (empty until delivered).
    function getResult(uint32 subscriptionId) external view returns (uint256[] memory) {
        return results[subscriptionId];
    }

    function _receiveCompute(
        uint32 subscriptionId,
        uint32,
        uint16,
        address,
        bytes calldata,
        bytes calldata output,
        bytes calldata,
        bytes32,
        uint256
    ) internal override {
        (bytes memory raw, bytes memory processed) = abi.decode(output, (bytes, bytes));
        uint256[] memory result = abi.decode(raw.length != 0 ? raw : processed, (uint256[]));
        results[subscriptionId] = result;
        emit IrisClassified(subscriptionId, result);
    }
}
