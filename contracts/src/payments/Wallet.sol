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
    /// @notice Amount escrowed per spender and token.
    mapping(address => mapping(address => uint256)) private lockedBySpender;

    /// @notice Amount escrowed per token, over all spenders.
    mapping(address => uint256) private lockedTotal;

    /// @notice Amount `spender` may still spend or escrow of `token`.
    mapping(address => mapping(address => uint256)) public allowance;

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

    /// @notice Sets (overwrites) the allowance of `spender` for `token`.
    function approve(address spender, address token, uint256 amount) external onlyOwner {
        allowance[spender][token] = amount;
        emit Approval(spender, token, amount);
    }

    /// @notice Sends `amount` of `token` to `to`, spending the allowance of `spender`.
    function cTransfer(address spender, address token, address to, uint256 amount) external onlyCoordinator {
        _spendAllowance(spender, token, amount);
        // Escrowed funds belong to pending proofs; only what is left over can be sent.
        if (lockedTotal[token] != 0) _requireUnlocked(token, amount);
        _send(token, to, amount);
        emit Transfer(spender, token, to, amount);
    }

    /// @notice Escrows `amount` of `token` for `spender`, spending its allowance.
    function cLock(address spender, address token, uint256 amount) external onlyCoordinator {
        _requireUnlocked(token, amount);
        _spendAllowance(spender, token, amount);
        lockedBySpender[spender][token] += amount;
        lockedTotal[token] += amount;
        emit Escrow(spender, token, amount, true);
    }

    /// @notice Releases `amount` of `token` escrowed for `spender` back into its allowance.
    function cUnlock(address spender, address token, uint256 amount) external onlyCoordinator {
        mapping(address => uint256) storage locks = lockedBySpender[spender];
        uint256 locked = locks[token];
        if (amount > locked) revert InsufficientFunds();
        unchecked {
            locks[token] = locked - amount;
            // lockedTotal is the sum of all lockedBySpender entries, so it holds at least `amount`.
            lockedTotal[token] -= amount;
        }
        allowance[spender][token] += amount;
        emit Escrow(spender, token, amount, false);
    }

    function _spendAllowance(address spender, address token, uint256 amount) private {
        mapping(address => uint256) storage allowances = allowance[spender];
        uint256 allowed = allowances[token];
        if (amount > allowed) revert InsufficientAllowance();
        unchecked {
            allowances[token] = allowed - amount;
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
