// SPDX-License-Identifier: BSD-3-Clause-Clear
pragma solidity ^0.8.4;

import {Test} from "./Test.sol";
import {LibRLP} from "solady/utils/LibRLP.sol";
import {Registry} from "../../src/Registry.sol";
import {EIP712Coordinator} from "../../src/EIP712Coordinator.sol";
import {Subscription} from "../../src/Coordinator.sol";
import {Inbox} from "../../src/Inbox.sol";
import {Reader} from "../../src/utility/Reader.sol";
import {Fee} from "../../src/payments/Fee.sol";
import {Wallet} from "../../src/payments/Wallet.sol";
import {WalletFactory} from "../../src/payments/WalletFactory.sol";
import {TestToken} from "../../src/examples/TestToken.sol";
import {AtomicVerifier, OptimisticVerifier} from "../../src/examples/Verifiers.sol";
import {
    Delivery,
    GenericCallbackConsumer,
    GenericSubscriptionConsumer,
    DelegatedSubscriptionConsumer,
    AllowlistSubscriptionConsumer
} from "../../src/examples/Consumers.sol";

/// @dev The deployment every suite starts from: core contracts with a 5.11 % protocol fee
///      paid to PROTOCOL, a 6-decimal token, the generic consumers and both verifiers.
///      Nodes are EOAs (ALICE, BOB, CHARLIE) driven with vm.prank.
abstract contract Fixture is Test {
    uint16 internal constant FEE_BP = 511;
    string internal constant CONTAINER = "container";
    bytes32 internal constant CONTAINER_ID = 0x9a368385fc92ce7a7910485800075b12c58839080e1366938f122ce36ca00a3d;
    bytes internal constant INPUT = "input";
    bytes internal constant OUTPUT = "output";
    bytes internal constant PROOF = "proof";
    uint256 internal constant DELEGATEE_KEY = 0xA11CE;
    uint256 internal constant BACKUP_DELEGATEE_KEY = 0xB0B;

    address internal constant ALICE = address(0xA11CE0);
    address internal constant BOB = address(0xB0B0);
    address internal constant CHARLIE = address(0xC4A4);
    address internal constant PROTOCOL = address(0x9807);
    address internal constant USER = address(0x05E4);

    // Copies of the contracts' events, for vm.expectEmit (solc 0.8.19 cannot emit C.E).
    event SubscriptionCreated(uint32 indexed id);
    event SubscriptionCancelled(uint32 indexed id);
    event SubscriptionFulfilled(uint32 indexed id, address indexed node);
    event ProofVerified(
        uint32 indexed id, uint32 indexed interval, address indexed node, bool active, address verifier, bool valid
    );
    event NewInboxItem(bytes32 indexed containerId, address indexed node, uint256 index);
    event Withdrawl(address token, uint256 amount);
    event Approval(address indexed spender, address token, uint256 amount);
    event Escrow(address indexed spender, address token, uint256 amount, bool locked);
    event Transfer(address indexed spender, address token, address indexed to, uint256 amount);
    event WalletCreated(address indexed caller, address indexed owner, address wallet);
    event OwnershipTransferred(address indexed oldOwner, address indexed newOwner);
    event FeeUpdated(uint16 fee);

    Registry internal registry;
    EIP712Coordinator internal coordinator;
    Inbox internal inbox;
    Reader internal reader;
    Fee internal fee;
    WalletFactory internal walletFactory;
    TestToken internal token;
    GenericCallbackConsumer internal callbackConsumer;
    GenericSubscriptionConsumer internal subscriptionConsumer;
    DelegatedSubscriptionConsumer internal delegatedConsumer;
    AllowlistSubscriptionConsumer internal allowlistConsumer;
    AtomicVerifier internal atomicVerifier;
    OptimisticVerifier internal optimisticVerifier;

    /// @dev Current test time; block.timestamp itself may be cached by the via-IR optimiser
    ///      across vm.warp calls, so tests move time with _skip and read it from here.
    uint256 internal now_;

    function setUp() public virtual {
        now_ = 1_700_000_000;
        vm.warp(now_);
        // Contracts come from the compiled artifacts (vm.deployCode), so test files do not embed
        // and re-optimise the whole source tree; the order is the registry order of LibDeploy.
        uint256 n = vm.getNonce(address(this));
        address[5] memory predicted;
        for (uint256 i = 0; i < 5; ++i) {
            predicted[i] = LibRLP.computeAddress(address(this), n + 1 + i);
        }
        registry = Registry(
            _deploy("Registry.sol:Registry", abi.encode(predicted[0], predicted[1], predicted[2], predicted[3], predicted[4]))
        );
        coordinator = EIP712Coordinator(_deploy("EIP712Coordinator.sol:EIP712Coordinator", abi.encode(registry)));
        inbox = Inbox(_deploy("Inbox.sol:Inbox", abi.encode(registry)));
        reader = Reader(_deploy("Reader.sol:Reader", abi.encode(registry)));
        fee = Fee(_deploy("Fee.sol:Fee", abi.encode(PROTOCOL, FEE_BP)));
        walletFactory = WalletFactory(_deploy("WalletFactory.sol:WalletFactory", abi.encode(registry)));
        assertEq(address(walletFactory), predicted[4], "registry prediction");
        token = TestToken(_deploy("TestToken.sol:TestToken", abi.encode("Test Token", "TT", uint8(6))));
        callbackConsumer =
            GenericCallbackConsumer(_deploy("Consumers.sol:GenericCallbackConsumer", abi.encode(registry)));
        subscriptionConsumer =
            GenericSubscriptionConsumer(_deploy("Consumers.sol:GenericSubscriptionConsumer", abi.encode(registry)));
        delegatedConsumer = DelegatedSubscriptionConsumer(
            _deploy("Consumers.sol:DelegatedSubscriptionConsumer", abi.encode(registry, vm.addr(DELEGATEE_KEY)))
        );
        address[] memory allowed = new address[](1);
        allowed[0] = ALICE;
        allowlistConsumer = AllowlistSubscriptionConsumer(
            _deploy("Consumers.sol:AllowlistSubscriptionConsumer", abi.encode(registry, allowed))
        );
        atomicVerifier = AtomicVerifier(payable(_deploy("Verifiers.sol:AtomicVerifier", abi.encode(registry))));
        optimisticVerifier =
            OptimisticVerifier(payable(_deploy("Verifiers.sol:OptimisticVerifier", abi.encode(registry))));
    }

    function _deploy(string memory artifact, bytes memory args) internal returns (address) {
        return vm.deployCode(artifact, args);
    }

    function _skip(uint256 seconds_) internal {
        now_ += seconds_;
        vm.warp(now_);
    }

    // ---- helpers -------------------------------------------------------------------------

    function _subscribe(uint32 frequency, uint32 period, uint16 redundancy, bool lazy)
        internal
        virtual
        returns (uint32)
    {
        return subscriptionConsumer.createSubscription(
            CONTAINER, frequency, period, redundancy, lazy, address(0), 0, address(0), address(0)
        );
    }

    function _subscribePaid(
        uint32 frequency,
        uint32 period,
        address paymentToken,
        uint256 amount,
        address wallet,
        address verifier
    ) internal virtual returns (uint32)
    {
        return subscriptionConsumer.createSubscription(
            CONTAINER, frequency, period, 1, false, paymentToken, amount, wallet, verifier
        );
    }

    function _deliver(address node, uint32 id, uint32 interval) internal {
        vm.prank(node);
        coordinator.deliverCompute(id, interval, INPUT, OUTPUT, PROOF, address(0));
    }

    function _deliverPaid(address node, uint32 id, uint32 interval, address nodeWallet) internal {
        vm.prank(node);
        coordinator.deliverCompute(id, interval, INPUT, OUTPUT, PROOF, nodeWallet);
    }

    function _deliverProof(address node, uint32 id, uint32 interval, bytes memory proof, address nodeWallet) internal {
        vm.prank(node);
        coordinator.deliverCompute(id, interval, INPUT, OUTPUT, proof, nodeWallet);
    }

    /// @dev A factory wallet owned by `owner`, funded with `amount` of `paymentToken`, with
    ///      `spender` approved for `amount`.
    function _fundedWallet(address owner, address paymentToken, uint256 amount, address spender)
        internal
        returns (Wallet wallet)
    {
        wallet = Wallet(payable(walletFactory.createWallet(owner)));
        if (paymentToken == address(0)) {
            vm.deal(address(wallet), amount);
        } else {
            token.mint(address(wallet), amount);
        }
        if (spender != address(0)) {
            vm.prank(owner);
            wallet.approve(spender, paymentToken, amount);
        }
    }

    function _balance(address who, address paymentToken) internal view returns (uint256) {
        return paymentToken == address(0) ? who.balance : token.balanceOf(who);
    }

    function _subscriptionAt(uint32 id) internal view returns (Subscription memory) {
        return coordinator.getSubscription(id);
    }

    // ---- EIP-712 hashing of delegated subscriptions, independent of the contract ----------------

    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 internal constant SUB_TYPEHASH = keccak256(
        "Subscription(address owner,uint32 activeAt,uint32 period,uint32 frequency,uint16 redundancy,bytes32 containerId,bool lazy,address verifier,uint256 paymentAmount,address paymentToken,address wallet)"
    );
    bytes32 internal constant DELEGATE_TYPEHASH = keccak256(
        "DelegateSubscription(uint32 nonce,uint32 expiry,Subscription sub)Subscription(address owner,uint32 activeAt,uint32 period,uint32 frequency,uint16 redundancy,bytes32 containerId,bool lazy,address verifier,uint256 paymentAmount,address paymentToken,address wallet)"
    );

    function _subHash(Subscription memory sub) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                SUB_TYPEHASH,
                sub.owner,
                sub.activeAt,
                sub.period,
                sub.frequency,
                sub.redundancy,
                sub.containerId,
                sub.lazy,
                sub.verifier,
                sub.paymentAmount,
                sub.paymentToken,
                sub.wallet
            )
        );
    }

    function _separator(address verifyingContract) internal view returns (bytes32) {
        return keccak256(
            abi.encode(
                DOMAIN_TYPEHASH, keccak256("InfernetCoordinator"), keccak256("1"), block.chainid, verifyingContract
            )
        );
    }

    function _digest(address verifyingContract, uint32 nonce, uint32 expiry, Subscription memory sub)
        internal
        view
        returns (bytes32)
    {
        bytes32 structHash = keccak256(abi.encode(DELEGATE_TYPEHASH, nonce, expiry, _subHash(sub)));
        return keccak256(abi.encodePacked(hex"1901", _separator(verifyingContract), structHash));
    }
}
