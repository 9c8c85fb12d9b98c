// SPDX-License-Identifier: BSD-3-Clause-Clear
pragma solidity ^0.8.4;

/// @title IVerifier
/// @notice What the coordinator expects from a proof verifier named in a subscription.
/// @dev A verifier should accept `requestProofVerification` only from the coordinator and
///      settle each request by calling `Coordinator.finalizeProofVerification` within one week,
///      either inside the request (atomic) or later (optimistic).
interface IVerifier {
    /// @notice The Wallet that receives this verifier's fee.
    function getWallet() external view returns (address);

    /// @notice Whether proofs paid in `token` (address(0) = ETH) are accepted.
    function isSupportedToken(address token) external view returns (bool);

    /// @notice Fee in `token` charged per verification.
    function fee(address token) external view returns (uint256);

    /// @notice Starts verification of `proof` for one delivery.
    function requestProofVerification(uint32 subscriptionId, uint32 interval, address node, bytes calldata proof)
        external;

    receive() external payable;
}
