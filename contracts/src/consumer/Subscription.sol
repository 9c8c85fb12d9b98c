// SPDX-License-Identifier: BSD-3-Clause-Clear
pragma solidity ^0.8.4;

import {BaseConsumer} from "./Base.sol";

/// @title SubscriptionConsumer
/// @notice Recurring subscriptions: the consumer computes each interval's inputs in its own
///         `getContainerInputs`.
abstract contract SubscriptionConsumer is BaseConsumer {
    constructor(address registry) BaseConsumer(registry) {}

    /// @notice Creates a subscription owned by this contract; returns its id.
    function _createComputeSubscription(
        string memory containerId,
        uint32 frequency,
        uint32 period,
        uint16 redundancy,
        bool lazy,
        address paymentToken,
        uint256 paymentAmount,
        address wallet,
        address verifier
    ) internal returns (uint32) {
        return COORDINATOR.createSubscription(
            containerId, frequency, period, redundancy, lazy, paymentToken, paymentAmount, wallet, verifier
        );
    }

    /// @notice Cancels a subscription created by this contract.
    function _cancelComputeSubscription(uint32 subscriptionId) internal {
        COORDINATOR.cancelSubscription(subscriptionId);
    }
}
