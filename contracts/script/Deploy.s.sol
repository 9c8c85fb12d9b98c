// SPDX-License-Identifier: BSD-3-Clause-Clear
pragma solidity ^0.8.4;

import {Vm} from "../test/lib/Test.sol";
import {LibDeploy} from "./LibDeploy.sol";
import {TestToken} from "../src/examples/TestToken.sol";
import {AtomicVerifier, OptimisticVerifier} from "../src/examples/Verifiers.sol";
import {
    HelloConsumer,
    GenericCallbackConsumer,
    GenericSubscriptionConsumer,
    DelegatedSubscriptionConsumer,
    AllowlistSubscriptionConsumer,
    RevertingConsumer,
    IrisConsumer
} from "../src/examples/Consumers.sol";

/// @title Deploy
/// @notice Deploys the core contracts in the registry order, then the example and test
///         contracts, and writes every address to a JSON file. Driven by scripts/deploy.sh:
///         env PRIVATE_KEY, FEE_RECIPIENT, FEE_BP, DELEGATE_SIGNER, OUT_FILE.
contract Deploy {
    Vm private constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    function run() external {
        uint256 key = vm.envUint("PRIVATE_KEY");
        address feeRecipient = vm.envAddress("FEE_RECIPIENT");
        uint256 feeBp = vm.envUint("FEE_BP");
        address delegateSigner = vm.envAddress("DELEGATE_SIGNER");
        string memory outFile = vm.envString("OUT_FILE");
        require(feeBp <= type(uint16).max, "FEE_BP does not fit uint16");

        address deployer = vm.addr(key);
        vm.startBroadcast(key);
        // Core contracts first and back to back: the Registry is given their future addresses.
        LibDeploy.Core memory core =
            LibDeploy.deployContracts(deployer, vm.getNonce(deployer), feeRecipient, uint16(feeBp));
        address registry = address(core.registry);

        TestToken token = new TestToken("Test Token", "TT", 6);
        TestToken token18 = new TestToken("Test Token 18", "TT18", 18);
        AtomicVerifier atomicVerifier = new AtomicVerifier(core.registry);
        OptimisticVerifier optimisticVerifier = new OptimisticVerifier(core.registry);
        HelloConsumer hello = new HelloConsumer(registry);
        GenericCallbackConsumer callbackConsumer = new GenericCallbackConsumer(registry);
        GenericSubscriptionConsumer subscriptionConsumer = new GenericSubscriptionConsumer(registry);
        DelegatedSubscriptionConsumer delegatedConsumer = new DelegatedSubscriptionConsumer(registry, delegateSigner);
        address[] memory allowed = new address[](1);
        allowed[0] = deployer;
        AllowlistSubscriptionConsumer allowlistConsumer = new AllowlistSubscriptionConsumer(registry, allowed);
        RevertingConsumer revertingConsumer = new RevertingConsumer(registry);
        IrisConsumer iris = new IrisConsumer(registry);
        vm.stopBroadcast();

        string memory o = "deployment";
        vm.serializeUint(o, "chainId", block.chainid);
        vm.serializeAddress(o, "deployer", deployer);
        vm.serializeAddress(o, "feeRecipient", feeRecipient);
        vm.serializeUint(o, "feeBasisPoints", feeBp);
        vm.serializeAddress(o, "registry", registry);
        vm.serializeAddress(o, "coordinator", address(core.coordinator));
        vm.serializeAddress(o, "inbox", address(core.inbox));
        vm.serializeAddress(o, "reader", address(core.reader));
        vm.serializeAddress(o, "fee", address(core.fee));
        vm.serializeAddress(o, "walletFactory", address(core.walletFactory));
        vm.serializeAddress(o, "testToken", address(token));
        vm.serializeAddress(o, "testToken18", address(token18));
        vm.serializeAddress(o, "atomicVerifier", address(atomicVerifier));
        vm.serializeAddress(o, "optimisticVerifier", address(optimisticVerifier));
        vm.serializeAddress(o, "helloConsumer", address(hello));
        vm.serializeAddress(o, "callbackConsumer", address(callbackConsumer));
        vm.serializeAddress(o, "subscriptionConsumer", address(subscriptionConsumer));
        vm.serializeAddress(o, "delegatedConsumer", address(delegatedConsumer));
        vm.serializeAddress(o, "delegateSigner", delegateSigner);
        vm.serializeAddress(o, "allowlistConsumer", address(allowlistConsumer));
        vm.serializeAddress(o, "revertingConsumer", address(revertingConsumer));
        string memory json = vm.serializeAddress(o, "irisConsumer", address(iris));
        vm.writeJson(json, outFile);
    }
}
