// SPDX-License-Identifier: BSD-3-Clause-Clear
pragma solidity ^0.8.4;

import {BaseConsumer} from "./Base.sol";

/// @title CallbackConsumer
/// @notice One-shot requests: each `_requestCompute` creates a subscription of one interval
///         (frequency 1, period 0, eager) and keeps its inputs for the nodes to read.
abstract contract CallbackConsumer is BaseConsumer {
    mapping(uint32 => bytes) internal subscriptionInputs;

    constructor(address registry) BaseConsumer(registry) {}

    /// @notice Requests one computation of `inputs` on `containerId`; returns the subscription id.
    function _requestCompute(
        string memory containerId,
        bytes memory inputs,
        uint16 redundancy,
        address paymentToken,
        uint256 paymentAmount,
        address wallet,
        address verifier
    ) internal returns (uint32) {
        uint32 subscriptionId = COORDINATOR.createSubscription(
            containerId, 1, 0, redundancy, false, paymentToken, paymentAmount, wallet, verifier
        );
        subscriptionInputs[subscriptionId] = inputs;
        return subscriptionId;
    }

    /// @notice The inputs stored for `subscriptionId`.
    function getContainerInputs(uint32 subscriptionId, uint32, uint32, address)
        external
        view
        override
        returns (bytes memory)
    {
        return subscriptionInputs[subscriptionId];
    }
}
