// SPDX-License-Identifier: BSD-3-Clause-Clear
pragma solidity ^0.8.4;

import {LibRLP} from "solady/utils/LibRLP.sol";
import {Fixture} from "./lib/Fixture.sol";
import {Coordinator} from "../src/Coordinator.sol";
import {Wallet} from "../src/payments/Wallet.sol";
import {Fee} from "../src/payments/Fee.sol";

contract PaymentsTest is Fixture {
    // ---- no verifier ------------------------------------------------------------------------

    function testSubscriptionCanBeFulfilledWithETHPayment() public {
        Wallet consumerWallet = _fundedWallet(USER, address(0), 1 ether, address(subscriptionConsumer));
        Wallet nodeWallet = Wallet(payable(walletFactory.createWallet(ALICE)));
        uint32 id = _subscribePaid(1, 0, address(0), 1 ether, address(consumerWallet), address(0));
        _deliverPaid(ALICE, id, 1, address(nodeWallet));
        assertEq(address(nodeWallet).balance, 0.8978 ether);
        assertEq(PROTOCOL.balance, 0.1022 ether);
        assertEq(address(consumerWallet).balance, 0);
        assertEq(consumerWallet.allowance(address(subscriptionConsumer), address(0)), 0);
    }

    function testSubscriptionCanBeFulfilledWithERC20() public {
        Wallet consumerWallet = _fundedWallet(USER, address(token), 50e6, address(subscriptionConsumer));
        Wallet nodeWallet = Wallet(payable(walletFactory.createWallet(ALICE)));
        uint32 id = _subscribePaid(1, 0, address(token), 50e6, address(consumerWallet), address(0));
        vm.expectEmit(true, true, false, true, address(consumerWallet));
        emit Transfer(address(subscriptionConsumer), address(token), PROTOCOL, 5_110_000);
        _deliverPaid(ALICE, id, 1, address(nodeWallet));
        assertEq(token.balanceOf(address(nodeWallet)), 44_890_000);
        assertEq(token.balanceOf(PROTOCOL), 5_110_000);
    }

    function testSubscriptionCanBeFulfilledAcrossIntervalsWithERC20Payment() public {
        Wallet consumerWallet = _fundedWallet(USER, address(token), 100e6, address(subscriptionConsumer));
        // Any factory wallet is accepted as the payee, even one owned by someone else.
        Wallet nodeWallet = Wallet(payable(walletFactory.createWallet(BOB)));
        uint32 id = _subscribePaid(2, 60, address(token), 50e6, address(consumerWallet), address(0));
        _skip(60);
        _deliverPaid(ALICE, id, 1, address(nodeWallet));
        _skip(60);
        _deliverPaid(ALICE, id, 2, address(nodeWallet));
        assertEq(token.balanceOf(address(nodeWallet)), 2 * 44_890_000);
        assertEq(token.balanceOf(address(consumerWallet)), 0);
    }

    function testUnpaidSubscriptionIgnoresNodeWallet() public {
        uint32 id = _subscribe(1, 0, 1, false);
        vm.prank(ALICE);
        coordinator.deliverCompute(id, 1, INPUT, OUTPUT, PROOF, address(0xdead));
    }

    function testSubscriptionCannotBeFulfilledWithInvalidWalletProvenance() public {
        Wallet direct = Wallet(payable(_deploy("Wallet.sol:Wallet", abi.encode(registry, USER))));
        vm.deal(address(direct), 1 ether);
        vm.prank(USER);
        direct.approve(address(subscriptionConsumer), address(0), 1 ether);
        Wallet nodeWallet = Wallet(payable(walletFactory.createWallet(ALICE)));
        uint32 id = _subscribePaid(1, 0, address(0), 1 ether, address(direct), address(0));
        vm.expectRevert(Coordinator.InvalidWallet.selector);
        _deliverPaid(ALICE, id, 1, address(nodeWallet));
    }

    function testSubscriptionCannotBeFulfilledWithInvalidNodeWalletProvenance() public {
        Wallet consumerWallet = _fundedWallet(USER, address(0), 1 ether, address(subscriptionConsumer));
        uint32 id = _subscribePaid(1, 0, address(0), 1 ether, address(consumerWallet), address(0));
        vm.expectRevert(Coordinator.InvalidWallet.selector);
        _deliverPaid(ALICE, id, 1, ALICE);
    }

    function testKnownNodeWalletDoesNotAdmitOtherAddresses() public {
        Wallet consumerWallet = _fundedWallet(USER, address(0), 2 ether, address(subscriptionConsumer));
        Wallet nodeWallet = Wallet(payable(walletFactory.createWallet(ALICE)));
        uint32 id = _subscribePaid(2, 60, address(0), 1 ether, address(consumerWallet), address(0));
        _skip(60);
        _deliverPaid(ALICE, id, 1, address(nodeWallet));
        _skip(60);
        // The coordinator remembers the factory's answer for nodeWallet only.
        Wallet direct = Wallet(payable(_deploy("Wallet.sol:Wallet", abi.encode(registry, ALICE))));
        vm.expectRevert(Coordinator.InvalidWallet.selector);
        _deliverPaid(ALICE, id, 2, address(direct));
        _deliverPaid(ALICE, id, 2, address(nodeWallet));
        assertEq(address(nodeWallet).balance, 2 * (1 ether - 1 ether * 2 * uint256(FEE_BP) / 10_000));
    }

    function testSubscriptionCannotBeFulfilledIfSpenderNoAllowance() public {
        Wallet consumerWallet = _fundedWallet(USER, address(0), 1 ether, address(0));
        Wallet nodeWallet = Wallet(payable(walletFactory.createWallet(ALICE)));
        uint32 id = _subscribePaid(1, 0, address(0), 1 ether, address(consumerWallet), address(0));
        vm.expectRevert(Wallet.InsufficientAllowance.selector);
        _deliverPaid(ALICE, id, 1, address(nodeWallet));
    }

    function testSubscriptionCannotBeFulfilledIfSpenderPartialAllowance() public {
        Wallet consumerWallet = _fundedWallet(USER, address(0), 1 ether, address(0));
        vm.prank(USER);
        consumerWallet.approve(address(subscriptionConsumer), address(0), 0.5 ether);
        Wallet nodeWallet = Wallet(payable(walletFactory.createWallet(ALICE)));
        uint32 id = _subscribePaid(1, 0, address(0), 1 ether, address(consumerWallet), address(0));
        vm.expectRevert(Wallet.InsufficientAllowance.selector);
        _deliverPaid(ALICE, id, 1, address(nodeWallet));
    }

    function testLazySubscriptionCanBeFulfilledWithPayment() public {
        Wallet consumerWallet = _fundedWallet(USER, address(0), 1 ether, address(subscriptionConsumer));
        Wallet nodeWallet = Wallet(payable(walletFactory.createWallet(ALICE)));
        uint32 id = subscriptionConsumer.createSubscription(
            CONTAINER, 1, 0, 1, true, address(0), 1 ether, address(consumerWallet), address(0)
        );
        _deliverPaid(ALICE, id, 1, address(nodeWallet));
        assertEq(address(nodeWallet).balance, 0.8978 ether);
        assertEq(inbox.read(CONTAINER_ID, ALICE, 0).subscriptionId, id);
    }

    // ---- atomic verifier ----------------------------------------------------------------------

    function testSubscriptionFulfillmentWithAtomicProofValidatingTrue() public {
        atomicVerifier.updateFee(address(token), 5e6);
        Wallet consumerWallet = _fundedWallet(USER, address(token), 50e6, address(subscriptionConsumer));
        Wallet nodeWallet = _fundedWallet(BOB, address(token), 50e6, BOB);
        uint32 id = _subscribePaid(1, 0, address(token), 40e6, address(consumerWallet), address(atomicVerifier));
        vm.expectEmit(true, true, true, true, address(coordinator));
        emit ProofVerified(id, 1, BOB, true, address(atomicVerifier), true);
        _deliverPaid(BOB, id, 1, address(nodeWallet));
        assertEq(token.balanceOf(atomicVerifier.getWallet()), 4_744_500);
        assertEq(token.balanceOf(PROTOCOL), 4_343_500);
        assertEq(token.balanceOf(address(nodeWallet)), 50e6 + 30_912_000);
        assertEq(token.balanceOf(address(consumerWallet)), 10e6);
        assertEq(nodeWallet.allowance(BOB, address(token)), 50e6);
        (uint32 expiry,,) = coordinator.proofRequests(keccak256(abi.encode(id, uint32(1), BOB)));
        assertEq(expiry, 0);
    }

    function testSubscriptionFulfillmentWithAtomicProofValidatingFalse() public {
        atomicVerifier.updateFee(address(0), 0.111 ether);
        Wallet consumerWallet = _fundedWallet(USER, address(0), 2 ether, address(subscriptionConsumer));
        Wallet nodeWallet = _fundedWallet(BOB, address(0), 1 ether, BOB);
        uint32 id = _subscribePaid(1, 0, address(0), 1 ether, address(consumerWallet), address(atomicVerifier));
        _deliverProof(BOB, id, 1, "invalid", address(nodeWallet));
        // Consumer paid 0.1022 + 0.0056721 protocol and 0.1053279 verifier, and got the node's
        // collateral of 1 ether: 2 - 0.2132 + 1 = 2.7868.
        assertEq(address(consumerWallet).balance, 2.7868 ether);
        assertEq(address(nodeWallet).balance, 0);
        assertEq(atomicVerifier.getWallet().balance, 0.1053279 ether);
        assertEq(PROTOCOL.balance, 0.1022 ether + 0.0056721 ether);
        // The output is still delivered: only payment is gated.
        assertTrue(subscriptionConsumer.getDelivery(id, 1, 1).received, "delivered");
    }

    function testSubscriptionCannotBeFulfilledIfNodeNotApprovedToSpendFromWallet() public {
        atomicVerifier.updateFee(address(token), 5e6);
        Wallet consumerWallet = _fundedWallet(USER, address(token), 50e6, address(subscriptionConsumer));
        Wallet nodeWallet = _fundedWallet(BOB, address(token), 50e6, BOB);
        uint32 id = _subscribePaid(1, 0, address(token), 40e6, address(consumerWallet), address(atomicVerifier));
        vm.expectRevert(Wallet.InsufficientAllowance.selector);
        _deliverPaid(CHARLIE, id, 1, address(nodeWallet));
    }

    function testSubscriptionCannotBeFulfilledIfNodeWalletHasInsufficientFundsForEscrow() public {
        atomicVerifier.updateFee(address(token), 5e6);
        Wallet consumerWallet = _fundedWallet(USER, address(token), 50e6, address(subscriptionConsumer));
        Wallet nodeWallet = _fundedWallet(BOB, address(token), 10e6, BOB);
        uint32 id = _subscribePaid(1, 0, address(token), 40e6, address(consumerWallet), address(atomicVerifier));
        vm.expectRevert(Wallet.InsufficientFunds.selector);
        _deliverPaid(BOB, id, 1, address(nodeWallet));
    }

    function testCannotDeliverWithUnsupportedVerifierToken() public {
        Wallet consumerWallet = _fundedWallet(USER, address(token), 50e6, address(subscriptionConsumer));
        Wallet nodeWallet = _fundedWallet(BOB, address(token), 50e6, BOB);
        uint32 id = _subscribePaid(1, 0, address(token), 40e6, address(consumerWallet), address(atomicVerifier));
        vm.expectRevert(Coordinator.UnsupportedVerifierToken.selector);
        _deliverPaid(BOB, id, 1, address(nodeWallet));
    }

    // ---- optimistic verifier ------------------------------------------------------------------

    function _optimisticEth() internal returns (uint32 id, Wallet consumerWallet, Wallet nodeWallet) {
        optimisticVerifier.updateFee(address(0), 0.1 ether);
        consumerWallet = _fundedWallet(USER, address(0), 1 ether, address(subscriptionConsumer));
        nodeWallet = _fundedWallet(BOB, address(0), 1 ether, BOB);
        id = _subscribePaid(1, 0, address(0), 1 ether, address(consumerWallet), address(optimisticVerifier));
        _deliverPaid(BOB, id, 1, address(nodeWallet));
        // Consumer escrow: 1 - 0.1022 - 0.1 = 0.7978; node collateral: 1 ether.
        (uint32 expiry, Wallet escrowWallet, uint256 escrowed) =
            coordinator.proofRequests(keccak256(abi.encode(id, uint32(1), BOB)));
        assertEq(expiry, now_ + 1 weeks);
        assertEq(address(escrowWallet), address(nodeWallet));
        assertEq(escrowed, 0.7978 ether);
        assertEq(atomicVerifier.getWallet().balance + optimisticVerifier.getWallet().balance, 0.09489 ether);
    }

    function testOptimisticProofValidatesInTime() public {
        (uint32 id, Wallet consumerWallet, Wallet nodeWallet) = _optimisticEth();
        vm.expectEmit(true, true, true, true, address(coordinator));
        emit ProofVerified(id, 1, BOB, true, address(optimisticVerifier), true);
        optimisticVerifier.finalize(id, 1, BOB, true);
        assertEq(address(nodeWallet).balance, 1.7978 ether);
        assertEq(address(consumerWallet).balance, 0);
        assertEq(nodeWallet.allowance(BOB, address(0)), 1 ether);
    }

    function testOptimisticProofSlashesNodeInTime() public {
        (uint32 id, Wallet consumerWallet, Wallet nodeWallet) = _optimisticEth();
        optimisticVerifier.finalize(id, 1, BOB, false);
        assertEq(address(nodeWallet).balance, 0);
        assertEq(address(consumerWallet).balance, 0.7978 ether + 1 ether);
    }

    function testCannotFinalizeUnknownProofRequest() public {
        (uint32 id,,) = _optimisticEth();
        vm.expectRevert(Coordinator.ProofRequestNotFound.selector);
        optimisticVerifier.finalize(id + 1, 1, BOB, true);
        optimisticVerifier.finalize(id, 1, BOB, true);
        vm.expectRevert(Coordinator.ProofRequestNotFound.selector);
        optimisticVerifier.finalize(id, 1, BOB, true);
    }

    function testOnlyVerifierCanFinalizeBeforeExpiry() public {
        (uint32 id,,) = _optimisticEth();
        _skip(1 weeks - 1);
        vm.prank(USER);
        vm.expectRevert(Coordinator.UnauthorizedVerifier.selector);
        coordinator.finalizeProofVerification(id, 1, BOB, true);
    }

    function testAnyoneSettlesAtExpiryAsValid() public {
        (uint32 id, Wallet consumerWallet, Wallet nodeWallet) = _optimisticEth();
        _skip(1 weeks);
        vm.expectEmit(true, true, true, true, address(coordinator));
        emit ProofVerified(id, 1, BOB, false, USER, false);
        vm.prank(USER);
        coordinator.finalizeProofVerification(id, 1, BOB, false);
        assertEq(address(nodeWallet).balance, 1.7978 ether);
        assertEq(address(consumerWallet).balance, 0);
    }

    function testPaymentCanBeFulfilledEvenWhenSubscriptionIsCancelled() public {
        (uint32 id,, Wallet nodeWallet) = _optimisticEth();
        subscriptionConsumer.cancelSubscription(id);
        optimisticVerifier.finalize(id, 1, BOB, true);
        assertEq(address(nodeWallet).balance, 1.7978 ether);
    }

    // ---- escrow is per spender, and cTransfer cannot spend it -----------------------------------

    function testEscrowedFundsCannotBeSpentByAnotherSubscription() public {
        optimisticVerifier.updateFee(address(token), 0);
        // One consumer wallet funds two subscriptions with an allowance above its balance.
        Wallet consumerWallet = _fundedWallet(USER, address(token), 100e6, address(0));
        vm.prank(USER);
        consumerWallet.approve(address(subscriptionConsumer), address(token), type(uint256).max);
        Wallet nodeWallet = _fundedWallet(BOB, address(token), 100e6, BOB);
        uint32 verified =
            _subscribePaid(1, 0, address(token), 100e6, address(consumerWallet), address(optimisticVerifier));
        uint32 plain = _subscribePaid(1, 0, address(token), 20e6, address(consumerWallet), address(0));

        // 100e6 - 10.22 % protocol = 89.78e6 escrowed; 10.22e6 left... minus nothing else.
        _deliverPaid(BOB, verified, 1, address(nodeWallet));
        assertEq(token.balanceOf(address(consumerWallet)), 89_780_000);
        // The plain subscription would need 20e6 of the escrowed funds: refused.
        vm.expectRevert(Wallet.InsufficientFunds.selector);
        _deliverPaid(ALICE, plain, 1, address(nodeWallet));
        // The owner cannot withdraw escrow either.
        vm.prank(USER);
        vm.expectRevert(Wallet.InsufficientFunds.selector);
        consumerWallet.withdraw(address(token), 1);
        // So the escrow still settles.
        optimisticVerifier.finalize(verified, 1, BOB, true);
        assertEq(token.balanceOf(address(nodeWallet)), 100e6 + 89_780_000);
    }

    function testUnlockReleasesOnlyTheSpendersOwnEscrow() public {
        Wallet wallet = _fundedWallet(USER, address(0), 2 ether, address(0));
        vm.startPrank(USER);
        wallet.approve(ALICE, address(0), 1 ether);
        wallet.approve(BOB, address(0), 1 ether);
        vm.stopPrank();
        vm.startPrank(address(coordinator));
        wallet.cLock(ALICE, address(0), 1 ether);
        vm.expectRevert(Wallet.InsufficientFunds.selector);
        wallet.cUnlock(BOB, address(0), 1);
        wallet.cUnlock(ALICE, address(0), 1 ether);
        vm.stopPrank();
        assertEq(wallet.allowance(ALICE, address(0)), 1 ether);
        assertEq(wallet.allowance(BOB, address(0)), 1 ether);
    }

    // ---- storage packing keeps every value exact ----------------------------------------------

    function testPaymentAboveUint96IsStoredAndPaidExactly() public {
        uint256 amount = uint256(type(uint96).max) + 3;
        Wallet consumerWallet = _fundedWallet(USER, address(0), amount, address(subscriptionConsumer));
        Wallet nodeWallet = Wallet(payable(walletFactory.createWallet(ALICE)));
        uint32 id = _subscribePaid(1, 0, address(0), amount, address(consumerWallet), address(0));
        assertEq(_subscriptionAt(id).paymentAmount, amount);
        _deliverPaid(ALICE, id, 1, address(nodeWallet));
        uint256 protocolCut = amount * (2 * uint256(FEE_BP)) / 10_000;
        assertEq(address(nodeWallet).balance, amount - protocolCut);
        assertEq(PROTOCOL.balance, protocolCut);
    }

    function testConsumerWalletCreatedAfterTheSubscriptionIsAccepted() public {
        address predicted = LibRLP.computeAddress(address(walletFactory), vm.getNonce(address(walletFactory)));
        uint32 id = _subscribePaid(1, 0, address(0), 1 ether, predicted, address(0));
        Wallet consumerWallet = _fundedWallet(USER, address(0), 1 ether, address(subscriptionConsumer));
        assertEq(address(consumerWallet), predicted);
        Wallet nodeWallet = Wallet(payable(walletFactory.createWallet(ALICE)));
        _deliverPaid(ALICE, id, 1, address(nodeWallet));
        assertEq(address(nodeWallet).balance, 0.8978 ether);
    }

    function testSettlementKeepsNodeRespondedAndClearsRequest() public {
        (uint32 id,,) = _optimisticEth();
        bytes32 key = keccak256(abi.encode(id, uint32(1), BOB));
        optimisticVerifier.finalize(id, 1, BOB, true);
        assertTrue(coordinator.nodeResponded(key), "responded");
        (uint32 expiry, Wallet escrowWallet, uint256 escrowed) = coordinator.proofRequests(key);
        assertEq(expiry, 0);
        assertEq(address(escrowWallet), address(0));
        assertEq(escrowed, 0);
    }

    // ---- the fee is bounded, and changes are logged ------------------------------------------------

    function testFeeUpdateEmitsAndIsBounded() public {
        vm.expectEmit(false, false, false, true, address(fee));
        emit FeeUpdated(5000);
        vm.prank(PROTOCOL);
        fee.updateFee(5000);
        assertEq(fee.FEE(), 5000);
        vm.prank(PROTOCOL);
        vm.expectRevert(Fee.FeeTooHigh.selector);
        fee.updateFee(5001);
        vm.prank(USER);
        vm.expectRevert(abi.encodeWithSignature("Unauthorized()"));
        fee.updateFee(1);
    }

    function testFeeConstructorRejectsTooHighFee() public {
        vm.expectRevert(Fee.FeeTooHigh.selector);
        this.deployFee(5001);
    }

    function deployFee(uint16 bp) external returns (address) {
        return _deploy("Fee.sol:Fee", abi.encode(PROTOCOL, bp));
    }

    function testFeeRecipientFollowsOwner() public {
        vm.expectEmit(true, true, false, true, address(fee));
        emit OwnershipTransferred(PROTOCOL, USER);
        vm.prank(PROTOCOL);
        fee.transferOwnership(USER);
        assertEq(fee.FEE_RECIPIENT(), USER);

        // The two-step handover and renouncing go through the same owner update.
        vm.prank(CHARLIE);
        fee.requestOwnershipHandover();
        vm.prank(USER);
        fee.completeOwnershipHandover(CHARLIE);
        assertEq(fee.FEE_RECIPIENT(), CHARLIE);
        assertEq(fee.FEE(), FEE_BP);
        vm.prank(CHARLIE);
        fee.renounceOwnership();
        assertEq(fee.FEE_RECIPIENT(), address(0));
        assertEq(fee.FEE(), FEE_BP);
    }

    // ---- fee maths ----------------------------------------------------------------------------

    /// @dev Every wei of a paid delivery ends up with the protocol, the verifier or the node
    ///      (after settlement), split by the documented integer formulas.
    function testFuzzFeeMaths(uint16 bp, uint96 amount, uint96 verifierFee, bool valid) public {
        bp = uint16(bound(bp, 0, 5000));
        amount = uint96(bound(amount, 1, type(uint96).max));
        uint256 protocolCut = uint256(amount) * (uint256(bp) * 2) / 10_000;
        verifierFee = uint96(bound(verifierFee, 0, amount - protocolCut));
        vm.prank(PROTOCOL);
        fee.updateFee(bp);
        atomicVerifier.updateFee(address(token), verifierFee);
        if (!valid) atomicVerifier.setNextValidity(false);

        Wallet consumerWallet = _fundedWallet(USER, address(token), amount, address(subscriptionConsumer));
        Wallet nodeWallet = _fundedWallet(BOB, address(token), amount, BOB);
        uint32 id = _subscribePaid(1, 0, address(token), amount, address(consumerWallet), address(atomicVerifier));
        _deliverPaid(BOB, id, 1, address(nodeWallet));

        uint256 verifierCut = uint256(verifierFee) * bp / 10_000;
        uint256 nodeNet = uint256(amount) - protocolCut - verifierFee;
        assertEq(token.balanceOf(PROTOCOL), protocolCut + verifierCut, "protocol");
        assertEq(token.balanceOf(atomicVerifier.getWallet()), verifierFee - verifierCut, "verifier");
        if (valid) {
            assertEq(token.balanceOf(address(nodeWallet)), uint256(amount) + nodeNet, "node");
            assertEq(token.balanceOf(address(consumerWallet)), 0, "consumer");
        } else {
            assertEq(token.balanceOf(address(nodeWallet)), 0, "node slashed");
            assertEq(token.balanceOf(address(consumerWallet)), nodeNet + amount, "consumer");
        }
    }

    function testFuzzFeeMathsNoVerifier(uint16 bp, uint128 amount) public {
        bp = uint16(bound(bp, 0, 5000));
        amount = uint128(bound(amount, 1, type(uint128).max));
        vm.prank(PROTOCOL);
        fee.updateFee(bp);
        Wallet consumerWallet = _fundedWallet(USER, address(token), amount, address(subscriptionConsumer));
        Wallet nodeWallet = Wallet(payable(walletFactory.createWallet(ALICE)));
        uint32 id = _subscribePaid(1, 0, address(token), amount, address(consumerWallet), address(0));
        _deliverPaid(ALICE, id, 1, address(nodeWallet));
        uint256 protocolCut = uint256(amount) * (uint256(bp) * 2) / 10_000;
        assertEq(token.balanceOf(PROTOCOL), protocolCut);
        assertEq(token.balanceOf(address(nodeWallet)), amount - protocolCut);
    }
}
