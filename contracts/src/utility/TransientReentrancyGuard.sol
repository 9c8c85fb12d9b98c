// SPDX-License-Identifier: BSD-3-Clause-Clear
pragma solidity ^0.8.24;

/// @title TransientReentrancyGuard
/// @notice Re-entrancy lock kept in transient storage (EIP-1153, Cancun): taking and releasing it
///         costs about 300 gas instead of the 5,000 of a storage flag, and nothing is left in
///         storage between transactions.
/// @dev Same error as Solady's ReentrancyGuard, `Reentrancy()` (0xab143c06), which the reference
///      coordinator reverts with, so a caller sees the same revert data.
abstract contract TransientReentrancyGuard {
    /// @notice Thrown when a guarded function is entered again before it returned.
    error Reentrancy();

    /// @dev Transient slot of the lock: the slot of Solady's storage flag, for easy recognition
    ///      in traces; transient and persistent storage do not share slots.
    uint256 private constant LOCK_SLOT = 0x929eee149b4bd21268;

    modifier nonReentrant() virtual {
        assembly ("memory-safe") {
            if tload(LOCK_SLOT) {
                mstore(0x00, 0xab143c06) // Reentrancy()
                revert(0x1c, 0x04)
            }
            tstore(LOCK_SLOT, 1)
        }
        _;
        assembly ("memory-safe") {
            tstore(LOCK_SLOT, 0)
        }
    }
}
