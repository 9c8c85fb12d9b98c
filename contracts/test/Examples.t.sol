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

    function testIrisConsumerDecodesRawOrProcessedOutput() public {
        IrisConsumer iris = IrisConsumer(_deploy("Consumers.sol:IrisConsumer", abi.encode(registry)));
        uint256[4] memory features = [uint256(5_100_000), 3_500_000, 1_400_000, 200_000];
        uint32 first = iris.classify(features);
        uint32 second = iris.classify(features);
        assertEq(coordinator.getSubscription(first).containerId, keccak256(abi.encode("iris-classification")));
        assertEq(iris.getContainerInputs(first, 1, 0, ALICE), abi.encode(features));

        uint256[] memory probabilities = new uint256[](3);
        probabilities[0] = 970_000;
        probabilities[1] = 20_000;
        probabilities[2] = 10_000;
        vm.prank(ALICE);
        coordinator.deliverCompute(first, 1, "", abi.encode(abi.encode(probabilities), bytes("")), "", address(0));
        vm.prank(ALICE);
        coordinator.deliverCompute(second, 1, "", abi.encode(bytes(""), abi.encode(probabilities)), "", address(0));

        for (uint32 id = first; id <= second; ++id) {
            uint256[] memory result = iris.getResult(id);
            assertEq(result.length, 3);
            assertEq(result[0], 970_000);
            assertEq(result[2], 10_000);
        }
    }
}
