//! callflow: how Skype for Business and Teams calls flow across an enterprise
//! network, the Internet, ExpressRoute and the Microsoft network.

pub mod engine;
pub mod time;
pub mod units;
