// SPDX-License-Identifier: BSD-3-Clause-Clear
pragma solidity ^0.8.4;

import {Fixture} from "./lib/Fixture.sol";
import {Subscription} from "../src/Coordinator.sol";
import {HelloConsumer, IrisConsumer} from "../src/examples/Consumers.sol";

contract ExamplesTest is Fixture {
    function testHelloConsumerStoresOutput() public {
        HelloConsumer hello = HelloConsumer(_deploy("Consumers.sol:HelloConsumer", abi.encode(registry)));
        uint32 id = hello.sayHello("world");
        Subscription memory sub = coordinator.getSubscription(id);
        assertEq(sub.containerId, keccak256(abi.encode("hello-world")));
        assertEq(sub.frequency, 1);
        assertEq(hello.getContainerInputs(id, 1, 0, ALICE), abi.encode("world"));

        vm.prank(ALICE);
        coordinator.deliverCompute(id, 1, "", "hello, world!", "", address(0));
        assertEq(hello.outputs(id), "hello, world!");
        assertEq(hello.lastOutput(), "hello, world!");
    }

    // abi.encode(bytes "", bytes vector) for features (5.1, 3.5, 1.4, 0.2) scaled by 1e6, where
    // vector = abi.encode(uint8 1, uint8 6, uint8 3, uint16[] [1, 4], int128[] features):
    // computed with `cast abi-encode`, not with the contract's own encoder.
    bytes internal constant IRIS_REQUEST = hex"0000000000000000000000000000000000000000000000000000000000000040"
        hex"0000000000000000000000000000000000000000000000000000000000000060"
        hex"0000000000000000000000000000000000000000000000000000000000000000"
        hex"00000000000000000000000000000000000000000000000000000000000001a0"
        hex"0000000000000000000000000000000000000000000000000000000000000001"
        hex"0000000000000000000000000000000000000000000000000000000000000006"
        hex"0000000000000000000000000000000000000000000000000000000000000003"
        hex"00000000000000000000000000000000000000000000000000000000000000a0"
        hex"0000000000000000000000000000000000000000000000000000000000000100"
        hex"0000000000000000000000000000000000000000000000000000000000000002"
        hex"0000000000000000000000000000000000000000000000000000000000000001"
        hex"0000000000000000000000000000000000000000000000000000000000000004"
        hex"0000000000000000000000000000000000000000000000000000000000000004"
        hex"00000000000000000000000000000000000000000000000000000000004dd1e0"
        hex"00000000000000000000000000000000000000000000000000000000003567e0"
        hex"0000000000000000000000000000000000000000000000000000000000155cc0"
        hex"0000000000000000000000000000000000000000000000000000000000030d40";

    function _iris() internal returns (IrisConsumer) {
        return IrisConsumer(_deploy("Consumers.sol:IrisConsumer", abi.encode(registry)));
    }

    function _setosa() internal pure returns (uint256[4] memory) {
        return [uint256(5_100_000), 3_500_000, 1_400_000, 200_000];
    }

    /// @dev A RitualVector of shape (1, n) with `elements` as the values.
    function _vector(uint8 arithmetic, uint8 scale, uint8 dtype, int256[] memory elements)
        internal
        pure
        returns (bytes memory)
    {
        uint16[] memory shape = new uint16[](2);
        shape[0] = 1;
        shape[1] = uint16(elements.length);
        return abi.encode(arithmetic, scale, dtype, shape, elements);
    }

    function _one(int256 element) internal pure returns (int256[] memory elements) {
        elements = new int256[](1);
        elements[0] = element;
    }

    /// @dev The softmax output of services/models/iris.onnx for the setosa features, as the
    ///      ONNX service encodes it: IEEE float32 bit patterns (0.99978262, 0.00021528636,
    ///      2.1603457e-06).
    function _setosaOutput() internal pure returns (bytes memory) {
        int256[] memory bits = new int256[](3);
        bits[0] = 0x3f7ff1c1;
        bits[1] = 0x3961be7e;
        bits[2] = 0x3610fa75;
        return _vector(0, 18, 1, bits);
    }

    function testIrisConsumerSendsFixedPointVector() public {
        IrisConsumer iris = _iris();
        uint32 id = iris.classify(_setosa());
        assertEq(coordinator.getSubscription(id).containerId, keccak256(abi.encode("iris-classification")));
        assertEq(iris.getContainerInputs(id, 1, 0, ALICE), IRIS_REQUEST);
    }

    function testIrisConsumerSendsConfiguredModelId() public {
        IrisConsumer iris = _iris();
        bytes memory modelId = abi.encode(abi.encode(uint8(0), "tests", "iris", ""), "iris.onnx");
        iris.setModelId(modelId);
        assertEq(iris.modelId(), modelId);
        uint32 id = iris.classify(_setosa());
        assertEq(iris.getContainerInputs(id, 1, 0, ALICE), abi.encode(modelId, iris.encodeFeatures(_setosa())));

        vm.prank(ALICE);
        vm.expectRevert(IrisConsumer.NotOwner.selector);
        iris.setModelId("");
    }

    function testIrisConsumerRejectsFeatureBeyondInt128() public {
        IrisConsumer iris = _iris();
        uint256[4] memory features = _setosa();
        features[2] = uint256(type(uint128).max);
        vm.expectRevert(abi.encodeWithSelector(IrisConsumer.FeatureTooLarge.selector, 2, features[2]));
        iris.classify(features);
    }

    function testIrisConsumerDecodesFloat32Delivery() public {
        IrisConsumer iris = _iris();
        uint32 first = iris.classify(_setosa());
        uint32 second = iris.classify(_setosa());
        vm.prank(ALICE);
        coordinator.deliverCompute(first, 1, "", abi.encode(_setosaOutput(), bytes("")), "", address(0));
        vm.prank(ALICE);
        coordinator.deliverCompute(second, 1, "", abi.encode(bytes(""), _setosaOutput()), "", address(0));

        for (uint32 id = first; id <= second; ++id) {
            uint256[] memory result = iris.getResult(id);
            assertEq(result.length, 3);
            assertEq(result[0], 999_783);
            assertEq(result[1], 215);
            assertEq(result[2], 2);
            assertEq(iris.predictedClass(id), 0);
        }
    }

    function testIrisConsumerHasNoClassBeforeDelivery() public {
        IrisConsumer iris = _iris();
        uint32 id = iris.classify(_setosa());
        assertEq(iris.getResult(id).length, 0);
        vm.expectRevert(abi.encodeWithSelector(IrisConsumer.NoResult.selector, id));
        iris.predictedClass(id);
    }

    function testIrisConsumerDecodesEachFloatEncoding() public {
        IrisConsumer iris = _iris();
        // IEEE float16 0.5, float64 0.25, float128 (a float64 pattern) 0.75.
        assertEq(iris.decodeProbabilities(_vector(0, 18, 0, _one(0x3800)))[0], 500_000);
        assertEq(iris.decodeProbabilities(_vector(0, 18, 2, _one(0x3fd0000000000000)))[0], 250_000);
        assertEq(iris.decodeProbabilities(_vector(0, 18, 3, _one(0x3fe8000000000000)))[0], 750_000);
        // Fixed point: 0.125 at scale 18, 0.75 at scale 2, 0.0000015 rounded up at scale 7.
        assertEq(iris.decodeProbabilities(_vector(1, 18, 3, _one(125e15)))[0], 125_000);
        assertEq(iris.decodeProbabilities(_vector(1, 2, 3, _one(75)))[0], 750_000);
        assertEq(iris.decodeProbabilities(_vector(1, 7, 3, _one(15)))[0], 2);
        assertEq(iris.decodeProbabilities(_vector(1, 60, 3, _one(1e38)))[0], 0);
        // Float32 edges: -0, the smallest subnormal, 1.5 and 2^100.
        assertEq(iris.decodeProbabilities(_vector(0, 18, 1, _one(-0x80000000)))[0], 0);
        assertEq(iris.decodeProbabilities(_vector(0, 18, 1, _one(1)))[0], 0);
        assertEq(iris.decodeProbabilities(_vector(0, 18, 1, _one(0x3fc00000)))[0], 1_500_000);
        assertEq(iris.decodeProbabilities(_vector(0, 18, 1, _one(0x71800000)))[0], 1e6 << 100);
    }

    function testIrisConsumerRejectsInvalidElements() public {
        IrisConsumer iris = _iris();
        // Float32 -1.0, NaN and +infinity, float64 2^128, fixed-point -1.
        int256[5] memory elements = [int256(-0x40800000), 0x7fc00000, 0x7f800000, 0x47f0000000000000, -1];
        uint8[5] memory arithmetic = [uint8(0), 0, 0, 0, 1];
        uint8[5] memory dtype = [uint8(1), 1, 1, 2, 3];
        for (uint256 i = 0; i < 5; ++i) {
            vm.expectRevert(abi.encodeWithSelector(IrisConsumer.InvalidProbability.selector, 0, elements[i]));
            iris.decodeProbabilities(_vector(arithmetic[i], 18, dtype[i], _one(elements[i])));
        }
    }

    function testIrisConsumerRejectsIntegerVector() public {
        IrisConsumer iris = _iris();
        vm.expectRevert(abi.encodeWithSelector(IrisConsumer.UnsupportedVector.selector, 0, 7));
        iris.decodeProbabilities(_vector(0, 18, 7, _one(1)));
    }
}
