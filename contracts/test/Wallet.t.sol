// SPDX-License-Identifier: BSD-3-Clause-Clear
pragma solidity ^0.8.4;

import {Fixture} from "./lib/Fixture.sol";
import {Wallet} from "../src/payments/Wallet.sol";
import {Coordinated} from "../src/utility/Coordinated.sol";
import {LibRLP} from "solady/utils/LibRLP.sol";

/// @dev ERC-20 whose transfer returns nothing (as some deployed tokens do).
contract MissingReturnToken {
    mapping(address => uint256) public balanceOf;

    function mint(address to, uint256 amount) external {
        balanceOf[to] += amount;
    }

    function transfer(address to, uint256 amount) external {
        balanceOf[msg.sender] -= amount;
        balanceOf[to] += amount;
    }
}

contract WalletTest is Fixture {
    function testFuzzWalletsAreCreatedCorrectly(address owner) public {
        address expected = LibRLP.computeAddress(address(walletFactory), vm.getNonce(address(walletFactory)));
        vm.expectEmit(true, true, false, true, address(walletFactory));
        emit WalletCreated(USER, owner, expected);
        vm.prank(USER);
        address wallet = walletFactory.createWallet(owner);
        assertEq(wallet, expected);
        assertEq(Wallet(payable(wallet)).owner(), owner);
        assertTrue(walletFactory.isValidWallet(wallet), "valid");
        // With nothing deposited, the first non-authorisation error of cLock is InsufficientFunds.
        vm.prank(address(coordinator));
        vm.expectRevert(Wallet.InsufficientFunds.selector);
        Wallet(payable(wallet)).cLock(USER, address(0), 1);
    }

    function testWalletsCreatedDirectlyAreNotValid() public {
        address direct = _deploy("Wallet.sol:Wallet", abi.encode(registry, USER));
        assertEq(walletFactory.isValidWallet(direct), false);
        assertEq(walletFactory.isValidWallet(USER), false);
    }

    function testCanTransferWalletOwnership() public {
        Wallet wallet = Wallet(payable(walletFactory.createWallet(USER)));
        vm.expectEmit(true, true, false, true, address(wallet));
        emit OwnershipTransferred(USER, BOB);
        vm.prank(USER);
        wallet.transferOwnership(BOB);
        assertEq(wallet.owner(), BOB);
    }

    function testFuzzCanDepositAndWithdrawEther(uint96 amount) public {
        Wallet wallet = Wallet(payable(walletFactory.createWallet(USER)));
        vm.deal(USER, amount);
        vm.prank(USER);
        (bool ok,) = address(wallet).call{value: amount}("");
        assertTrue(ok, "deposit");
        vm.prank(USER);
        vm.expectRevert(Wallet.InsufficientFunds.selector);
        wallet.withdraw(address(0), uint256(amount) + 1);
        vm.expectEmit(false, false, false, true, address(wallet));
        emit Withdrawl(address(0), amount);
        vm.prank(USER);
        wallet.withdraw(address(0), amount);
        assertEq(USER.balance, amount);
    }

    function testFuzzCanApproveSpenderToSpendToken(uint128 amount) public {
        amount = uint128(bound(amount, 1, type(uint128).max));
        Wallet wallet = _fundedWallet(USER, address(token), amount, address(0));
        vm.expectRevert(abi.encodeWithSignature("Unauthorized()"));
        wallet.approve(ALICE, address(token), amount);
        vm.expectEmit(true, false, false, true, address(wallet));
        emit Approval(ALICE, address(token), amount);
        vm.prank(USER);
        wallet.approve(ALICE, address(token), amount);
        assertEq(wallet.allowance(ALICE, address(token)), amount);

        vm.startPrank(address(coordinator));
        vm.expectRevert(Wallet.InsufficientAllowance.selector);
        wallet.cTransfer(ALICE, address(token), BOB, uint256(amount) + 1);
        vm.expectEmit(true, false, true, true, address(wallet));
        emit Transfer(ALICE, address(token), BOB, amount);
        wallet.cTransfer(ALICE, address(token), BOB, amount);
        vm.stopPrank();
        assertEq(token.balanceOf(BOB), amount);
        assertEq(wallet.allowance(ALICE, address(token)), 0);
    }

    function testCanTransferNonStandardERC20() public {
        MissingReturnToken odd = new MissingReturnToken();
        Wallet wallet = Wallet(payable(walletFactory.createWallet(USER)));
        odd.mint(address(wallet), 100);
        vm.prank(USER);
        wallet.withdraw(address(odd), 60);
        assertEq(odd.balanceOf(USER), 60);
    }

    function testFuzzNonCoordinatorCannotMoveFunds(address caller) public {
        vm.assume(caller != address(coordinator));
        Wallet wallet = _fundedWallet(USER, address(0), 1 ether, ALICE);
        vm.startPrank(caller);
        vm.expectRevert(Coordinated.NotCoordinator.selector);
        wallet.cTransfer(ALICE, address(0), caller, 1);
        vm.expectRevert(Coordinated.NotCoordinator.selector);
        wallet.cLock(ALICE, address(0), 1);
        vm.expectRevert(Coordinated.NotCoordinator.selector);
        wallet.cUnlock(ALICE, address(0), 1);
        vm.stopPrank();
    }

    function testMultipleSpendersUtilizingFunds() public {
        Wallet wallet = _fundedWallet(USER, address(token), 100, address(0));
        vm.startPrank(USER);
        wallet.approve(ALICE, address(token), 60);
        wallet.approve(BOB, address(token), 60);
        vm.stopPrank();

        vm.startPrank(address(coordinator));
        vm.expectEmit(true, false, false, true, address(wallet));
        emit Escrow(ALICE, address(token), 50, true);
        wallet.cLock(ALICE, address(token), 50);
        // 50 unlocked left; BOB may not lock 60.
        vm.expectRevert(Wallet.InsufficientFunds.selector);
        wallet.cLock(BOB, address(token), 60);
        wallet.cLock(BOB, address(token), 40);
        // 10 unlocked left: BOB's remaining allowance of 20 cannot reach into the escrow.
        vm.expectRevert(Wallet.InsufficientFunds.selector);
        wallet.cTransfer(BOB, address(token), CHARLIE, 20);
        // ALICE's unlock credits her allowance back (10 + 50).
        wallet.cUnlock(ALICE, address(token), 50);
        assertEq(wallet.allowance(ALICE, address(token)), 60);
        wallet.cTransfer(ALICE, address(token), CHARLIE, 60);
        vm.stopPrank();
        assertEq(token.balanceOf(CHARLIE), 60);
        vm.prank(USER);
        vm.expectRevert(Wallet.InsufficientFunds.selector);
        wallet.withdraw(address(token), 1);
    }

    // ---- allowance and escrow share a slot while they fit, and stay exact when they do not ----

    function testAllowanceRoundTripsAtEveryWidth() public {
        Wallet wallet = _fundedWallet(USER, address(token), 0, address(0));
        uint256[5] memory amounts =
            [uint256(0), (1 << 128) - 1, 1 << 128, type(uint256).max - 1, type(uint256).max];
        for (uint256 i = 0; i < amounts.length; ++i) {
            vm.prank(USER);
            wallet.approve(ALICE, address(token), amounts[i]);
            assertEq(wallet.allowance(ALICE, address(token)), amounts[i]);
        }
    }

    function testEscrowSurvivesAllowanceWidthChanges() public {
        Wallet wallet = _fundedWallet(USER, address(0), 10 ether, address(0));
        vm.prank(USER);
        wallet.approve(ALICE, address(0), 3 ether);
        vm.prank(address(coordinator));
        wallet.cLock(ALICE, address(0), 2 ether);

        // A wide allowance moves both values out of the packed slot; the escrow must follow.
        vm.prank(USER);
        wallet.approve(ALICE, address(0), 1 << 200);
        vm.startPrank(address(coordinator));
        wallet.cLock(ALICE, address(0), 1 ether);
        assertEq(wallet.allowance(ALICE, address(0)), (1 << 200) - 1 ether);
        wallet.cUnlock(ALICE, address(0), 3 ether);
        assertEq(wallet.allowance(ALICE, address(0)), (1 << 200) + 2 ether);
        vm.expectRevert(Wallet.InsufficientFunds.selector);
        wallet.cUnlock(ALICE, address(0), 1);
        vm.stopPrank();

        // Back to a narrow allowance while escrow is held.
        vm.prank(address(coordinator));
        wallet.cLock(ALICE, address(0), 4 ether);
        vm.prank(USER);
        wallet.approve(ALICE, address(0), 5);
        assertEq(wallet.allowance(ALICE, address(0)), 5);
        vm.startPrank(address(coordinator));
        wallet.cUnlock(ALICE, address(0), 4 ether);
        assertEq(wallet.allowance(ALICE, address(0)), 4 ether + 5);
        vm.expectRevert(Wallet.InsufficientFunds.selector);
        wallet.cUnlock(ALICE, address(0), 1);
        vm.stopPrank();
    }

    function testEscrowAbove127BitsIsExact() public {
        Wallet wallet = _fundedWallet(USER, address(0), 0, address(0));
        vm.deal(address(wallet), 1 << 130);
        vm.prank(USER);
        wallet.approve(ALICE, address(0), 1 << 129);
        vm.startPrank(address(coordinator));
        wallet.cLock(ALICE, address(0), 1 << 128);
        assertEq(wallet.allowance(ALICE, address(0)), 1 << 128);
        // The escrow is wider than the packed field, so it lives in the wide fields.
        wallet.cTransfer(ALICE, address(0), CHARLIE, 1 << 128);
        vm.stopPrank();
        vm.prank(USER);
        vm.expectRevert(Wallet.InsufficientFunds.selector);
        wallet.withdraw(address(0), (1 << 129) + 1);
        vm.prank(address(coordinator));
        wallet.cUnlock(ALICE, address(0), 1 << 128);
        assertEq(wallet.allowance(ALICE, address(0)), 1 << 128);
    }

    function testUnlockSaturatesAllowanceInsteadOfReverting() public {
        Wallet wallet = _fundedWallet(USER, address(0), 1 ether, address(0));
        vm.prank(USER);
        wallet.approve(ALICE, address(0), 1 ether);
        vm.prank(address(coordinator));
        wallet.cLock(ALICE, address(0), 1 ether);
        vm.prank(USER);
        wallet.approve(ALICE, address(0), type(uint256).max - 1);
        vm.prank(address(coordinator));
        wallet.cUnlock(ALICE, address(0), 1 ether);
        assertEq(wallet.allowance(ALICE, address(0)), type(uint256).max);
    }
}
