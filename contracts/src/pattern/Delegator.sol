// SPDX-License-Identifier: BSD-3-Clause-Clear
pragma solidity ^0.8.4;

/// @title Delegator
/// @notice Names one EOA whose EIP-712 signatures may create subscriptions for this contract
///         (EIP712Coordinator.createSubscriptionDelegatee). Changing the signer invalidates its
///         unused signatures but not subscriptions already created.
abstract contract Delegator {
    address private signer;

    constructor(address signer_) {
        signer = signer_;
    }

    /// @notice The current delegated signer.
    function getSigner() external view returns (address) {
        return signer;
    }

    function _updateSigner(address newSigner) internal {
        signer = newSigner;
    }
}
