"""mediation package."""
