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
/// @notice Classifies an iris flower with container "iris-classification", an ONNX inference
///         service. The request is abi.encode(bytes modelId, bytes vector): `vector` is the four
///         measurements as a RitualVector (fixed-point with 6 decimals, dtype float128, shape
///         (1, 4)), and an empty `modelId` selects the service's preloaded model. The service
///         returns the model's first output as a RitualVector in raw_output, which
///         _receiveCompute decodes into class probabilities scaled by 1e6.
/// @dev RitualVector ABI form (infernet-ml 2.0.0): abi.encode(uint8 arithmetic,
///      uint8 fixedPointScale, uint8 dtype, uint16[] shape, T[] values). T is int128 for
///      fixed-point vectors; IEEE vectors carry the IEEE 754 bit pattern as a signed integer
///      (int16 for float16, int32 for float32, int64 for float64 and, as infernet-ml writes
///      them, for float128 and float256).
contract IrisConsumer is CallbackConsumer {
    uint8 internal constant ARITHMETIC_IEEE = 0;
    uint8 internal constant ARITHMETIC_FIXED_POINT = 1;
    uint8 internal constant DTYPE_FLOAT16 = 0;
    uint8 internal constant DTYPE_FLOAT32 = 1;
    uint8 internal constant DTYPE_FLOAT64 = 2;
    uint8 internal constant DTYPE_FLOAT128 = 3;
    uint8 internal constant DTYPE_FLOAT256 = 4;

    /// @notice Decimals of the features passed to classify() and of the stored probabilities.
    uint8 public constant DECIMALS = 6;

    /// @notice The account that may change the model id: the deployer.
    address public immutable owner;

    /// @notice Model id sent with every request: empty for the service's preloaded model, else
    ///         abi.encode(bytes repo, string filesCsv) with
    ///         repo = abi.encode(uint8 storage, string owner, string name, string version).
    bytes public modelId;

    /// @notice Decoded result per request.
    mapping(uint32 => uint256[]) private results;

    event IrisRequested(uint32 indexed subscriptionId, uint256[4] features);
    event IrisClassified(uint32 indexed subscriptionId, uint256[] result);
    event ModelIdUpdated(bytes modelId);

    /// @notice Thrown when anyone but the owner sets the model id.
    error NotOwner();
    /// @notice Thrown when a scaled feature does not fit the vector's int128 elements.
    error FeatureTooLarge(uint256 index, uint256 value);
    /// @notice Thrown when the output vector is neither a fixed-point float vector nor an IEEE
    ///         float16, float32, float64, float128 or float256 vector.
    error UnsupportedVector(uint8 arithmetic, uint8 dtype);
    /// @notice Thrown when an output element is negative, NaN or infinite, when an IEEE element
    ///         is at least 2^128 and when a fixed-point element does not fit int128.
    error InvalidProbability(uint256 index, int256 element);
    /// @notice Thrown by predictedClass() before the result of `subscriptionId` arrived.
    error NoResult(uint32 subscriptionId);

    constructor(address registry) CallbackConsumer(registry) {
        owner = msg.sender;
    }

    /// @notice Sets the model id of later requests (see `modelId`); empty bytes select the
    ///         service's preloaded model.
    function setModelId(bytes calldata newModelId) external {
        if (msg.sender != owner) revert NotOwner();
        modelId = newModelId;
        emit ModelIdUpdated(newModelId);
    }

    /// @notice Requests a classification of `features` (sepal length, sepal width, petal length,
    ///         petal width in cm, each scaled by 1e6).
    function classify(uint256[4] calldata features) external returns (uint32 subscriptionId) {
        subscriptionId = _requestCompute(
            "iris-classification", abi.encode(modelId, encodeFeatures(features)), 1, address(0), 0, address(0), address(0)
        );
        emit IrisRequested(subscriptionId, features);
    }

    /// @notice The RitualVector that classify() sends for `features`: fixed-point with
    ///         DECIMALS decimals, dtype float128, shape (1, 4).
    /// @dev NOTE: tested against inferd's onnx-service, which converts every input to float32.
    ///      Ritual's Python service was not run with a fixed-point (float128) input.
    function encodeFeatures(uint256[4] calldata features) public pure returns (bytes memory) {
        uint16[] memory shape = new uint16[](2);
        shape[0] = 1;
        shape[1] = 4;
        int128[] memory values = new int128[](4);
        for (uint256 i = 0; i < 4; ++i) {
            if (features[i] > uint256(int256(type(int128).max))) revert FeatureTooLarge(i, features[i]);
            values[i] = int128(int256(features[i]));
        }
        return abi.encode(ARITHMETIC_FIXED_POINT, DECIMALS, DTYPE_FLOAT128, shape, values);
    }

    /// @notice The decoded result of `subscriptionId`: one probability per class, scaled by 1e6
    ///         (empty until delivered).
    function getResult(uint32 subscriptionId) external view returns (uint256[] memory) {
        return results[subscriptionId];
    }

    /// @notice The index of the most probable class of `subscriptionId` (the first on ties).
    function predictedClass(uint32 subscriptionId) external view returns (uint256 best) {
        uint256[] storage result = results[subscriptionId];
        if (result.length == 0) revert NoResult(subscriptionId);
        for (uint256 i = 1; i < result.length; ++i) {
            if (result[i] > result[best]) best = i;
        }
    }

    /// @notice Decodes a RitualVector of non-negative reals into values scaled by 1e6, rounded
    ///         to nearest (halves up).
    function decodeProbabilities(bytes memory vector) public pure returns (uint256[] memory scaled) {
        (uint8 arithmetic, uint8 scale, uint8 dtype,, int256[] memory elements) =
            abi.decode(vector, (uint8, uint8, uint8, uint16[], int256[]));
        scaled = new uint256[](elements.length);
        for (uint256 i = 0; i < elements.length; ++i) {
            bool valid;
            if (arithmetic == ARITHMETIC_FIXED_POINT && dtype <= DTYPE_FLOAT256) {
                (valid, scaled[i]) = _scaleFixedPoint(elements[i], scale);
            } else if (arithmetic == ARITHMETIC_IEEE && dtype == DTYPE_FLOAT16) {
                (valid, scaled[i]) = _scaleIeee(uint256(elements[i]) & 0xffff, 5, 10);
            } else if (arithmetic == ARITHMETIC_IEEE && dtype == DTYPE_FLOAT32) {
                (valid, scaled[i]) = _scaleIeee(uint256(elements[i]) & 0xffffffff, 8, 23);
            } else if (arithmetic == ARITHMETIC_IEEE && dtype >= DTYPE_FLOAT64 && dtype <= DTYPE_FLOAT256) {
                (valid, scaled[i]) = _scaleIeee(uint256(elements[i]) & 0xffffffffffffffff, 11, 52);
            } else {
                revert UnsupportedVector(arithmetic, dtype);
            }
            if (!valid) revert InvalidProbability(i, elements[i]);
        }
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
        // The node delivers abi.encode(bytes raw_output, bytes processed_output); the ONNX
        // service fills raw_output, other services may put the vector in processed_output.
        (bytes memory raw, bytes memory processed) = abi.decode(output, (bytes, bytes));
        uint256[] memory result = decodeProbabilities(raw.length != 0 ? raw : processed);
        results[subscriptionId] = result;
        emit IrisClassified(subscriptionId, result);
    }

    /// @dev round(element / 10^scale * 10^DECIMALS); invalid when negative or beyond int128.
    function _scaleFixedPoint(int256 element, uint8 scale) private pure returns (bool, uint256) {
        if (element < 0 || element > type(int128).max) return (false, 0);
        uint256 value = uint256(element);
        if (scale <= DECIMALS) return (true, value * 10 ** (DECIMALS - scale));
        uint256 shift = scale - DECIMALS;
        // value < 2^127 < 10^39, so dividing by a larger power of ten gives 0.
        if (shift > 39) return (true, 0);
        uint256 divisor = 10 ** shift;
        return (true, (value + divisor / 2) / divisor);
    }

    /// @dev round(x * 10^DECIMALS) of the IEEE 754 binary number `bits` with the given field
    ///      widths; invalid for negative numbers (except -0), NaN, infinity and x >= 2^128.
    function _scaleIeee(uint256 bits, uint256 exponentBits, uint256 fractionBits)
        private
        pure
        returns (bool, uint256)
    {
        uint256 exponentMask = (1 << exponentBits) - 1;
        uint256 biasedExponent = (bits >> fractionBits) & exponentMask;
        uint256 fraction = bits & ((1 << fractionBits) - 1);
        bool negative = (bits >> (exponentBits + fractionBits)) & 1 == 1;
        if (biasedExponent == exponentMask) return (false, 0);
        if (biasedExponent == 0 && fraction == 0) return (true, 0);
        if (negative) return (false, 0);

        // x = significand * 2^power; subnormals (biased exponent 0) have no implicit leading 1.
        uint256 significand = biasedExponent == 0 ? fraction : fraction | (1 << fractionBits);
        int256 bias = int256(exponentMask >> 1);
        int256 power = int256(biasedExponent == 0 ? uint256(1) : biasedExponent) - bias - int256(fractionBits);
        uint256 scaled = significand * 10 ** DECIMALS;
        if (power >= 0) {
            if (power + int256(fractionBits) >= 128) return (false, 0);
            return (true, scaled << uint256(power));
        }
        uint256 shift = uint256(-power);
        if (shift >= 256) return (true, 0);
        return (true, (scaled + (1 << (shift - 1))) >> shift);
    }
}
