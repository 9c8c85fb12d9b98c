// SPDX-License-Identifier: BSD-3-Clause-Clear
pragma solidity ^0.8.4;

import {Ownable} from "solady/auth/Ownable.sol";

/// @title Fee
/// @notice Protocol fee in basis points; the owner is the fee recipient.
/// @dev Unlike the reference, the fee is bounded by MAX_FEE (a consumer pays twice the fee on
///      the base amount, so anything above 5000 would make every paid delivery revert) and
///      every change emits FeeUpdated.
contract Fee is Ownable {
    /// @notice Highest accepted fee: 5000 bp, at which the protocol takes the whole payment.
    uint16 internal constant MAX_FEE = 5000;

    /// @notice Current fee in basis points (500 = 5.00 %).
    uint16 public FEE;

    /// @dev Copy of owner(), kept in FEE's storage slot so that a paid delivery, which reads
    ///      both, loads one cold slot instead of two. Updated wherever Ownable sets the owner.
    address private recipient;

    /// @notice Emitted whenever the fee is set, at construction and by updateFee.
    event FeeUpdated(uint16 fee);

    /// @notice Thrown for a fee above MAX_FEE.
    error FeeTooHigh();

    constructor(address feeRecipient, uint16 fee) {
        if (fee > MAX_FEE) revert FeeTooHigh();
        _initializeOwner(feeRecipient);
        FEE = fee;
        emit FeeUpdated(fee);
    }

    /// @notice Sets a new fee; owner only.
    function updateFee(uint16 newFee) external onlyOwner {
        if (newFee > MAX_FEE) revert FeeTooHigh();
        FEE = newFee;
        emit FeeUpdated(newFee);
    }

    /// @notice Address that receives protocol fees (the owner).
    function FEE_RECIPIENT() external view returns (address) {
        return recipient;
    }

    function _initializeOwner(address newOwner) internal override {
        super._initializeOwner(newOwner);
        recipient = newOwner;
    }

    function _setOwner(address newOwner) internal override {
        super._setOwner(newOwner);
        recipient = newOwner;
    }
}
