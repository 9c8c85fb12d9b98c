// SPDX-License-Identifier: BSD-3-Clause-Clear
pragma solidity ^0.8.4;

import {Ownable} from "solady/auth/Ownable.sol";
import {SafeTransferLib} from "solady/utils/SafeTransferLib.sol";
import {Registry} from "../Registry.sol";
import {Coordinated} from "../utility/Coordinated.sol";

/// @title Wallet
/// @notice Payment account of a consumer or a node. Holds ETH (token address(0)) and ERC-20
///         balances; the owner grants per-spender, per-token allowances, and only the
///         coordinator moves or escrows funds, always on behalf of a spender.
/// @dev Unlike the reference, escrow is accounted per spender and in total: `cTransfer` and
///      `withdraw` can only spend funds that are not escrowed, and `cUnlock` releases only what
///      was escrowed for that spender. An escrow for one subscription therefore stays payable
///      whatever other subscriptions of the same wallet do.
contract Wallet is Ownable, Coordinated {
    /// @dev Allowance and escrow of one spender for one token. While the allowance fits in 128
    ///      bits and the escrow in 127, both sit in `packed` (allowance in bits 0-127, escrow
    ///      in bits 128-254), so a lock or unlock writes one slot. Otherwise bit 255 of
    ///      `packed` is set and the two values live in the wide fields, so every uint256
    ///      allowance reads back exactly.
    struct Account {
        uint256 packed;
        uint256 wideAllowance;
        uint256 wideEscrowed;
    }

    uint256 private constant WIDE = 1 << 255;
    uint256 private constant MAX_PACKED_ALLOWANCE = (1 << 128) - 1;
    uint256 private constant MAX_PACKED_ESCROW = (1 << 127) - 1;

    /// @notice Allowance and escrow per spender and token.
    mapping(address => mapping(address => Account)) private accounts;

    /// @notice Amount escrowed per token, over all spenders.
    mapping(address => uint256) private lockedTotal;

    /// @notice The owner took `amount` of `token` out. (Spelling kept: it is part of the ABI.)
    event Withdrawl(address token, uint256 amount);

    /// @notice The owner set the allowance of `spender` for `token` to `amount`.
    event Approval(address indexed spender, address token, uint256 amount);

    /// @notice `amount` of `token` was escrowed (`locked` true) or released for `spender`.
    event Escrow(address indexed spender, address token, uint256 amount, bool locked);

    /// @notice `amount` of `token` was sent to `to` on behalf of `spender`.
    event Transfer(address indexed spender, address token, address indexed to, uint256 amount);

    /// @notice Thrown when the unescrowed balance (or the spender's escrow) is too small.
    error InsufficientFunds();

    /// @notice Thrown when the spender's allowance is too small.
    error InsufficientAllowance();

    constructor(Registry registry, address initialOwner) Coordinated(registry) {
        _initializeOwner(initialOwner);
    }

    receive() external payable {}

    /// @notice Withdraws unescrowed funds to the owner.
    function withdraw(address token, uint256 amount) external onlyOwner {
        _requireUnlocked(token, amount);
        _send(token, msg.sender, amount);
        emit Withdrawl(token, amount);
    }

    /// @notice Amount `spender` may still spend or escrow of `token`.
    function allowance(address spender, address token) external view returns (uint256 allowed) {
        (allowed,) = _read(accounts[spender][token]);
    }

    /// @notice Sets (overwrites) the allowance of `spender` for `token`.
    function approve(address spender, address token, uint256 amount) external onlyOwner {
        Account storage account = accounts[spender][token];
        (, uint256 escrowed) = _read(account);
        _write(account, amount, escrowed);
        emit Approval(spender, token, amount);
    }

    /// @notice Sends `amount` of `token` to `to`, spending the allowance of `spender`.
    function cTransfer(address spender, address token, address to, uint256 amount) external onlyCoordinator {
        Account storage account = accounts[spender][token];
        (uint256 allowed, uint256 escrowed) = _read(account);
        if (amount > allowed) revert InsufficientAllowance();
        unchecked {
            _write(account, allowed - amount, escrowed);
        }
        // Escrowed funds belong to pending proofs; only what is left over can be sent.
        if (lockedTotal[token] != 0) _requireUnlocked(token, amount);
        _send(token, to, amount);
        emit Transfer(spender, token, to, amount);
    }

    /// @notice Escrows `amount` of `token` for `spender`, spending its allowance.
    function cLock(address spender, address token, uint256 amount) external onlyCoordinator {
        _requireUnlocked(token, amount);
        Account storage account = accounts[spender][token];
        (uint256 allowed, uint256 escrowed) = _read(account);
        if (amount > allowed) revert InsufficientAllowance();
        unchecked {
            _write(account, allowed - amount, escrowed + amount);
            // Both sums are bounded by the wallet's balance of `token`, which _requireUnlocked
            // compared against lockedTotal + amount.
            lockedTotal[token] += amount;
        }
        emit Escrow(spender, token, amount, true);
    }

    /// @notice Releases `amount` of `token` escrowed for `spender` back into its allowance.
    function cUnlock(address spender, address token, uint256 amount) external onlyCoordinator {
        Account storage account = accounts[spender][token];
        (uint256 allowed, uint256 escrowed) = _read(account);
        if (amount > escrowed) revert InsufficientFunds();
        unchecked {
            // An allowance raised near 2**256 meanwhile saturates instead of reverting, so a
            // settlement can always release its escrow.
            uint256 restored = allowed + amount;
            if (restored < amount) restored = type(uint256).max;
            _write(account, restored, escrowed - amount);
            // lockedTotal is the sum of every spender's escrow, so it holds at least `amount`.
            lockedTotal[token] -= amount;
        }
        emit Escrow(spender, token, amount, false);
    }

    function _read(Account storage account) private view returns (uint256 allowed, uint256 escrowed) {
        uint256 packed = account.packed;
        if (packed >> 255 == 0) return (uint128(packed), packed >> 128);
        return (account.wideAllowance, account.wideEscrowed);
    }

    function _write(Account storage account, uint256 allowed, uint256 escrowed) private {
        if ((allowed >> 128) | (escrowed >> 127) == 0) {
            account.packed = (escrowed << 128) | allowed;
        } else {
            account.packed = WIDE;
            account.wideAllowance = allowed;
            account.wideEscrowed = escrowed;
        }
    }

    function _requireUnlocked(address token, uint256 amount) private view {
        if (amount > _unlockedBalance(token)) revert InsufficientFunds();
    }

    /// @dev Balance minus escrow, or 0 if the balance fell below the escrow (e.g. a token that
    ///      shrinks balances on its own).
    function _unlockedBalance(address token) private view returns (uint256) {
        uint256 balance =
            token == address(0) ? address(this).balance : SafeTransferLib.balanceOf(token, address(this));
        uint256 locked = lockedTotal[token];
        unchecked {
            return balance > locked ? balance - locked : 0;
        }
    }

    function _send(address token, address to, uint256 amount) private {
        if (token == address(0)) {
            SafeTransferLib.forceSafeTransferETH(to, amount);
        } else {
            SafeTransferLib.safeTransfer(token, to, amount);
        }
    }
}
