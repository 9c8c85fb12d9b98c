// SPDX-License-Identifier: BSD-3-Clause-Clear
pragma solidity ^0.8.4;

import {Fixture} from "./lib/Fixture.sol";
import {Vm} from "./lib/Test.sol";
import {Subscription} from "../src/Coordinator.sol";
import {Wallet} from "../src/payments/Wallet.sol";
import {SubscriptionConsumer} from "../src/consumer/Subscription.sol";
import {Delegator} from "../src/pattern/Delegator.sol";
import {IVerifier} from "../src/payments/IVerifier.sol";
import {Coordinator} from "../src/Coordinator.sol";

/// @dev Consumer with an empty callback, as in the reference measurements.
contract NoopConsumer is SubscriptionConsumer, Delegator {
    constructor(address registry, address signer) SubscriptionConsumer(registry) Delegator(signer) {}

    function create(
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
            "container", frequency, period, redundancy, lazy, paymentToken, paymentAmount, wallet, verifier
        );
    }
}

/// @dev Verifier that does as little as the reference's test verifiers: a fee and a support flag
///      per token, fees paid to the verifier contract itself, and either no work on a request
///      (optimistic: settled later with `settle`) or an immediate verdict read from storage
///      (atomic). The example verifiers in src/examples store proofs and hash them, which would
///      add their own storage writes to the coordinator's figures.
contract MinimalVerifier is IVerifier {
    Coordinator private immutable COORDINATOR;
    bool private immutable ATOMIC;
    bool private verdict = true;
    mapping(address => bool) private supported;
    mapping(address => uint256) private fees;

    constructor(Coordinator coordinator, bool atomic) {
        COORDINATOR = coordinator;
        ATOMIC = atomic;
    }

    receive() external payable {}

    function getWallet() external view returns (address) {
        return address(this);
    }

    function isSupportedToken(address token) external view returns (bool) {
        return supported[token];
    }

    function fee(address token) external view returns (uint256) {
        return fees[token];
    }

    function setFee(address token, uint256 amount) external {
        supported[token] = true;
        fees[token] = amount;
    }

    function requestProofVerification(uint32 subscriptionId, uint32 interval, address node, bytes calldata)
        external
    {
        if (ATOMIC) COORDINATOR.finalizeProofVerification(subscriptionId, interval, node, verdict);
    }

    function settle(uint32 subscriptionId, uint32 interval, address node, bool valid) external {
        COORDINATOR.finalizeProofVerification(subscriptionId, interval, node, valid);
    }
}

/// @dev Single-operation gas, for docs/benchmarks.md. Run with
///      `forge test --isolate --match-contract GasTest -vv`: with --isolate every call is its
///      own transaction, so vm.lastCallGas() reports the whole transaction: base cost and
///      calldata included, refund already subtracted (the refund printed is the one applied,
///      at most a fifth of the gas before it). The reference figures were taken the same way.
///      Each line printed is "GAS <operation>" followed by gas used and, next, the refund.
///      Each operation fails the test if it costs more than the reference's figure; the
///      `deliverCompute` rows of a node whose wallet has been paid before also fail if they are
///      not at least 10 % cheaper.
contract GasTest is Fixture {
    address private constant CONSOLE = 0x000000000000000000636F6e736F6c652e6c6f67;
    bytes private constant B32 = hex"0101010101010101010101010101010101010101010101010101010101010101";

    NoopConsumer private noop;

    function setUp() public override {
        super.setUp();
        noop = new NoopConsumer(address(registry), vm.addr(DELEGATEE_KEY));
    }

    function _subscribe(uint32 frequency, uint32 period, uint16 redundancy, bool lazy)
        internal
        override
        returns (uint32)
    {
        return noop.create(frequency, period, redundancy, lazy, address(0), 0, address(0), address(0));
    }

    function _subscribePaid(
        uint32 frequency,
        uint32 period,
        address paymentToken,
        uint256 amount,
        address wallet,
        address verifier
    ) internal override returns (uint32) {
        return noop.create(frequency, period, 1, false, paymentToken, amount, wallet, verifier);
    }

    /// @dev Logs the last call's gas and fails if it exceeds `referenceGas`, the reference's
    ///      figure for the same operation. Only a run with --isolate (tools/run.sh test does
    ///      one) measures whole transactions like the reference; without it the figures leave
    ///      out the base cost and calldata, so the check is looser.
    function _report(string memory operation, uint256 referenceGas) internal view {
        Vm.Gas memory gas = vm.lastCallGas();
        _log(string.concat("GAS ", operation), gas.gasTotalUsed);
        _log(string.concat("REFUND ", operation), uint256(int256(gas.gasRefunded)));
        assertTrue(
            gas.gasTotalUsed <= referenceGas, string.concat(operation, ": more gas than the reference's figure")
        );
    }

    /// @dev As _report, and fails unless the operation costs at most 90 % of `referenceGas`.
    function _reportCheaper(string memory operation, uint256 referenceGas) internal view {
        _report(operation, referenceGas);
        uint256 used = vm.lastCallGas().gasTotalUsed;
        assertTrue(used * 10 <= referenceGas * 9, string.concat(operation, ": less than 10 % below the reference"));
    }

    /// @dev console.log(string,uint256) of forge; a plain staticcall because the console
    ///      address has no code.
    function _log(string memory label, uint256 value) internal view {
        (bool ok,) = CONSOLE.staticcall(abi.encodeWithSignature("log(string,uint256)", label, value));
        ok;
    }

    function testGasCreateAndCancel() public {
        vm.prank(address(noop));
        uint32 id = coordinator.createSubscription(CONTAINER, 10, 60, 1, false, address(0), 0, address(0), address(0));
        _report("createSubscription", 107_066);
        vm.prank(address(noop));
        coordinator.cancelSubscription(id);
        _report("cancelSubscription", 27_899);
    }

    function testGasDeliverUnpaid() public {
        uint32 id = _subscribe(1, 0, 2, false);
        vm.prank(ALICE);
        coordinator.deliverCompute(id, 1, B32, B32, B32, address(0));
        _reportCheaper("deliverCompute eager unpaid first ever 3x32B", 114_233);
        vm.prank(BOB);
        coordinator.deliverCompute(id, 1, "", "", "", address(0));
        _reportCheaper("deliverCompute eager unpaid 2nd node empty bytes", 77_233);
        uint32 lazyId = _subscribe(1, 0, 1, true);
        vm.prank(ALICE);
        coordinator.deliverCompute(lazyId, 1, B32, B32, B32, address(0));
        _reportCheaper("deliverCompute lazy unpaid 3x32B", 280_074);
    }

    function testGasDeliverPaid() public {
        // One delivery before, as on any chain in use (the reference's re-entrancy flag is then
        // set, which its figures below assume).
        uint32 warm = _subscribe(1, 0, 1, false);
        _deliver(CHARLIE, warm, 1);

        Wallet consumerWallet = _fundedWallet(USER, address(token), 1000e6, address(noop));
        Wallet nodeWallet = Wallet(payable(walletFactory.createWallet(ALICE)));
        uint32 id = _subscribePaid(3, 60, address(token), 10e6, address(consumerWallet), address(0));
        _skip(60);
        vm.prank(ALICE);
        coordinator.deliverCompute(id, 1, "", "", "", address(nodeWallet));
        _report("deliverCompute ERC-20 paid, node wallet empty", 201_357);
        _skip(60);
        vm.prank(ALICE);
        coordinator.deliverCompute(id, 2, "", "", "", address(nodeWallet));
        _reportCheaper("deliverCompute ERC-20 paid, warm balances", 147_257);

        Wallet ethWallet = _fundedWallet(USER, address(0), 10 ether, address(noop));
        uint32 ethId = _subscribePaid(1, 0, address(0), 1 ether, address(ethWallet), address(0));
        vm.prank(ALICE);
        coordinator.deliverCompute(ethId, 1, "", "", "", address(nodeWallet));
        _reportCheaper("deliverCompute ETH paid", 168_163);
    }

    function testGasDeliverWithVerifiers() public {
        uint32 warm = _subscribe(1, 0, 1, false);
        _deliver(CHARLIE, warm, 1);
        MinimalVerifier optimistic = new MinimalVerifier(coordinator, false);
        MinimalVerifier atomic = new MinimalVerifier(coordinator, true);
        optimistic.setFee(address(token), 1e6);
        atomic.setFee(address(token), 1e6);
        Wallet consumerWallet = _fundedWallet(USER, address(token), 1000e6, address(noop));
        Wallet nodeWallet = _fundedWallet(ALICE, address(token), 1000e6, ALICE);
        // Fee recipients already hold some of the token, so no row pays a first balance write.
        token.mint(PROTOCOL, 1);
        token.mint(address(optimistic), 1);
        token.mint(address(atomic), 1);

        uint32 a = _subscribePaid(1, 0, address(token), 10e6, address(consumerWallet), address(optimistic));
        uint32 b = _subscribePaid(1, 0, address(token), 10e6, address(consumerWallet), address(optimistic));
        vm.prank(ALICE);
        coordinator.deliverCompute(a, 1, "", "", B32, address(nodeWallet));
        _reportCheaper("deliverCompute ERC-20 paid + optimistic verifier", 326_046);
        vm.prank(address(optimistic));
        coordinator.finalizeProofVerification(a, 1, ALICE, true);
        _report("finalizeProofVerification by verifier, valid", 81_072);
        vm.prank(ALICE);
        coordinator.deliverCompute(b, 1, "", "", B32, address(nodeWallet));
        _skip(1 weeks);
        vm.prank(USER);
        coordinator.finalizeProofVerification(b, 1, ALICE, true);
        _report("finalizeProofVerification by anyone after expiry", 81_026);

        uint32 c = _subscribePaid(1, 0, address(token), 10e6, address(consumerWallet), address(atomic));
        vm.prank(ALICE);
        coordinator.deliverCompute(c, 1, "", "", B32, address(nodeWallet));
        _reportCheaper("deliverCompute ERC-20 paid + atomic verifier", 253_573);
    }

    function _delegated(uint32 frequency) internal view returns (Subscription memory sub) {
        sub.owner = address(noop);
        sub.activeAt = uint32(now_);
        sub.frequency = frequency;
        sub.redundancy = 2;
        sub.containerId = CONTAINER_ID;
    }

    function _signDelegated(uint32 nonce, Subscription memory sub) internal view returns (uint8, bytes32, bytes32) {
        bytes32 subHash = keccak256(
            abi.encode(
                keccak256(
                    "Subscription(address owner,uint32 activeAt,uint32 period,uint32 frequency,uint16 redundancy,bytes32 containerId,bool lazy,address verifier,uint256 paymentAmount,address paymentToken,address wallet)"
                ),
                sub.owner, sub.activeAt, sub.period, sub.frequency, sub.redundancy, sub.containerId, sub.lazy,
                sub.verifier, sub.paymentAmount, sub.paymentToken, sub.wallet
            )
        );
        bytes32 structHash = keccak256(
            abi.encode(
                keccak256(
                    "DelegateSubscription(uint32 nonce,uint32 expiry,Subscription sub)Subscription(address owner,uint32 activeAt,uint32 period,uint32 frequency,uint16 redundancy,bytes32 containerId,bool lazy,address verifier,uint256 paymentAmount,address paymentToken,address wallet)"
                ),
                nonce,
                uint32(now_ + 100),
                subHash
            )
        );
        bytes32 separator = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("InfernetCoordinator"),
                keccak256("1"),
                block.chainid,
                address(coordinator)
            )
        );
        return vm.sign(DELEGATEE_KEY, keccak256(abi.encodePacked(hex"1901", separator, structHash)));
    }

    function testGasDelegated() public {
        uint32 warm = _subscribe(1, 0, 1, false);
        _deliver(CHARLIE, warm, 1);
        Subscription memory sub = _delegated(1);
        (uint8 v, bytes32 r, bytes32 s) = _signDelegated(0, sub);
        coordinator.createSubscriptionDelegatee(0, uint32(now_ + 100), sub, v, r, s);
        _report("createSubscriptionDelegatee new", 142_298);
        coordinator.createSubscriptionDelegatee(0, uint32(now_ + 100), sub, v, r, s);
        _report("createSubscriptionDelegatee existing", 27_716);

        Subscription memory sub2 = _delegated(1);
        (v, r, s) = _signDelegated(1, sub2);
        vm.prank(ALICE);
        coordinator.deliverComputeDelegatee(1, uint32(now_ + 100), sub2, v, r, s, 1, "", "", "", address(0));
        _report("deliverComputeDelegatee create + deliver", 236_694);
        vm.prank(BOB);
        coordinator.deliverComputeDelegatee(1, uint32(now_ + 100), sub2, v, r, s, 1, "", "", "", address(0));
        _report("deliverComputeDelegatee existing + deliver", 98_654);
    }

    function testGasInboxWalletReader() public {
        vm.prank(ALICE);
        inbox.write(CONTAINER_ID, B32, B32, B32);
        _report("Inbox.write 3x32B first", 206_420);
        vm.prank(ALICE);
        inbox.write(CONTAINER_ID, B32, B32, B32);
        _report("Inbox.write 3x32B second", 189_320);

        address w = walletFactory.createWallet(USER);
        _report("WalletFactory.createWallet", 752_080);
        Wallet wallet = Wallet(payable(w));
        token.mint(w, 100e6);
        vm.prank(USER);
        wallet.approve(ALICE, address(token), 5);
        vm.prank(USER);
        wallet.approve(ALICE, address(token), 6);
        _report("Wallet.approve overwrite non-zero", 31_410);
        vm.prank(USER);
        wallet.withdraw(address(token), 1e6);
        _report("Wallet.withdraw ERC-20", 60_832);

        uint32 id = _subscribe(1, 0, 2, false);
        _subscribe(1, 0, 2, false);
        _subscribe(1, 0, 2, false);
        coordinator.getSubscription(id);
        _report("getSubscription", 16_282);
        reader.readSubscriptionBatch(1, 4);
        _report("Reader.readSubscriptionBatch 3 ids", 59_693);
        uint32[] memory ids = new uint32[](2);
        uint32[] memory intervals = new uint32[](2);
        ids[0] = 1;
        ids[1] = 2;
        intervals[0] = 1;
        intervals[1] = 1;
        reader.readRedundancyCountBatch(ids, intervals);
        _report("Reader.readRedundancyCountBatch 2 pairs", 11_300);
    }
}
