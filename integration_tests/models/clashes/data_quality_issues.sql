-- The project's own data_quality_issues: shopseg must neither read nor replace it.
select
    cast('root-1' as varchar) as customer_id,
    cast('not shopseg' as varchar) as owner,
    cast(12.5 as double) as revenue_amount,
    cast('2024-01-01' as timestamp) as ordered_at
